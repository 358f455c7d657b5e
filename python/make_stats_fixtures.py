#!/usr/bin/python3
"""Reference outputs of scipy.stats.wilcoxon for tests/test_analysis_wilcoxon.c.

Run by hand: /usr/bin/python3 python/make_stats_fixtures.py
Writes tests/fixtures/analysis/wilcoxon.npz. For each case c:
  c_x, c_y   the paired samples (c_y absent: one-sample test on c_x)
  c_approx   [statistic, pvalue, zstatistic] of wilcoxon(x, y, method="approx")
  c_exact    [statistic, pvalue] of wilcoxon(x, y, method="exact") (cases without
             zeros or ties only)
All with scipy's defaults otherwise: zero_method="wilcox", correction=False,
alternative="two-sided".
"""
import os
import warnings

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261202)
cases = {}
# continuous, no ties: both methods
cases["small5"] = (rng.standard_normal(5), rng.standard_normal(5))
cases["n12"] = (rng.standard_normal(12) + 0.8, rng.standard_normal(12))
cases["n20"] = (rng.standard_normal(20) + 0.3, rng.standard_normal(20))
cases["n25"] = (rng.standard_normal(25), rng.standard_normal(25) - 0.5)
cases["centre3"] = (np.array([1.0, 2.0, -3.0]), None)   # r_plus at the centre: p = 1
cases["one15"] = (rng.standard_normal(15) * 0.01 - 0.004, None)
# zeros and ties: normal approximation only
a = np.round(rng.standard_normal(40), 1)
b = np.round(rng.standard_normal(40) * 0.5 + 0.2, 1)
b[:6] = a[:6]                                           # six zero differences
cases["ties40"] = (a, b)
cases["int300"] = (rng.integers(0, 6, 300).astype(float), rng.integers(0, 5, 300).astype(float))
# like the rat decoders' per-sample |errors|: n = 1313, skewed, a small shift
e1 = np.abs(rng.standard_t(3, 1313)) * 0.08
e2 = np.abs(e1 + rng.standard_normal(1313) * 0.03) + 0.002
cases["errors1313"] = (e1, e2)

out = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for name, (x, y) in cases.items():
        out[name + "_x"] = x
        if y is not None:
            out[name + "_y"] = y
        r = stats.wilcoxon(x, y, method="approx")
        out[name + "_approx"] = np.array([r.statistic, r.pvalue, r.zstatistic])
        d = x - (y if y is not None else 0)
        ad = np.abs(d[d != 0])
        if np.all(d != 0) and len(np.unique(ad)) == len(ad) and len(d) <= 50:
            r = stats.wilcoxon(x, y, method="exact")
            out[name + "_exact"] = np.array([r.statistic, r.pvalue])
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "analysis")
os.makedirs(d, exist_ok=True)
np.savez(os.path.join(d, "wilcoxon.npz"), **out)
print("wrote", os.path.join(d, "wilcoxon.npz"), "with", len(out), "arrays")
for k, v in out.items():
    if k.endswith(("_approx", "_exact")):
        print(k, v)
