#!/usr/bin/python3
"""Reference outputs of SciPy for the prep tests (tests/test_prep_smooth.c).

Run by hand: /usr/bin/python3 python/make_prep_fixtures.py
Writes tests/fixtures/prep/smooth.npz:
  x            (40, 3)  input signal (one trial, 3 channels)
  savgol_9_2   scipy.signal.savgol_filter(x, 9, 2, axis=0)         (mode "interp")
  savgol_7_3   scipy.signal.savgol_filter(x, 7, 3, axis=0)
  gauss_2_5    scipy.ndimage.gaussian_filter1d(x, 2.5, axis=0)     (mode "reflect")
  gauss_2_5_z  same with mode="constant"
  box_4        scipy.ndimage.uniform_filter1d(x, 4, axis=0)        (mode "reflect")
  box_5_z      scipy.ndimage.uniform_filter1d(x, 5, axis=0, mode="constant")
  exp_3        scipy.signal.lfilter([1-a], [1, -a], x, axis=0, zi=a*x[0]) with a = exp(-1/3)
"""
import os

import numpy as np
from scipy import ndimage, signal

rng = np.random.default_rng(7)
x = np.cumsum(rng.standard_normal((40, 3)), axis=0) + rng.poisson(2.0, (40, 3))
a = np.exp(-1.0 / 3.0)
zi = (a * x[0])[None, :]
exp3, _ = signal.lfilter([1 - a], [1, -a], x, axis=0, zi=zi)
out = dict(
    x=x,
    savgol_9_2=signal.savgol_filter(x, 9, 2, axis=0),
    savgol_7_3=signal.savgol_filter(x, 7, 3, axis=0),
    gauss_2_5=ndimage.gaussian_filter1d(x, 2.5, axis=0),
    gauss_2_5_z=ndimage.gaussian_filter1d(x, 2.5, axis=0, mode="constant"),
    box_4=ndimage.uniform_filter1d(x, 4, axis=0),
    box_5_z=ndimage.uniform_filter1d(x, 5, axis=0, mode="constant"),
    exp_3=exp3,
)
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "prep")
os.makedirs(d, exist_ok=True)
np.savez(os.path.join(d, "smooth.npz"), **out)
print("wrote", os.path.join(d, "smooth.npz"))
