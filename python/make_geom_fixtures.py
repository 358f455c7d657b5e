#!/usr/bin/python3
"""Fixtures for tests/test_geom_laplacian.c: the points of the reference's
Laplacian test (spec §19.5): 512 uniform points in [-1, 1]^2 drawn with
numpy's legacy generator seeded 0, rounded to float32 as the reference stores
positions. Run by hand: /usr/bin/python3 python/make_geom_fixtures.py
"""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "tests", "fixtures", "geom")
os.makedirs(out, exist_ok=True)
np.random.seed(0)
x = np.random.uniform((-1, -1), (1, 1), (512, 2))
np.save(os.path.join(out, "ref512.npy"), x.astype(np.float32).astype(np.float64))
