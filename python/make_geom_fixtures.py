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

# The float64 values of L_rw[0, 2] and L_rw[2, 0] that tests/test_geom_laplacian.c
# expects, from a dense NumPy/SciPy evaluation of the spec's formulas
# (CkNN k = 30, delta = 1, strict ratio test; W = 1/d; L = I - D^-1 W).
from scipy.spatial.distance import pdist, squareform  # noqa: E402

p = x.astype(np.float32).astype(np.float64)
d = squareform(pdist(p))
rho = np.partition(d, 30)[:, [30]]
A = d / np.sqrt(rho.dot(rho.T)) < 1.0
np.fill_diagonal(A, False)
W = np.where(A, 1.0 / np.where(d > 0, d, 1.0), 0.0)
L = np.eye(len(p)) - W / W.sum(1, keepdims=True)
print("L_rw[0,2] = %.17g, L_rw[2,0] = %.17g" % (L[0, 2], L[2, 0]))
