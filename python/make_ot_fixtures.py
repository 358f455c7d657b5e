#!/usr/bin/python3
"""Fixtures for tests/test_analysis_ot.c: random rectangular transportation
problems solved as linear programs by scipy.optimize.linprog (HiGHS), an
independent reference for ndyn's network simplex.

Run by hand from the repository root:  /usr/bin/python3 python/make_ot_fixtures.py
Writes tests/fixtures/ot/lp_cases.npz with, for case c:
  c{c}_a (na,), c{c}_b (nb,), c{c}_cost (na, nb), c{c}_value () the optimal cost,
and `ncases` ().
"""
import os

import numpy as np
from scipy.optimize import linprog


def solve(a, b, cost):
    na, nb = cost.shape
    # Equality constraints: row sums a, column sums b (one is redundant; HiGHS copes).
    aeq = np.zeros((na + nb, na * nb))
    for i in range(na):
        aeq[i, i * nb:(i + 1) * nb] = 1.0
    for j in range(nb):
        aeq[na + j, j::nb] = 1.0
    res = linprog(cost.ravel(), A_eq=aeq, b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs")
    assert res.status == 0, res.message
    return res.fun


def main():
    rng = np.random.default_rng(20261201)
    out = {}
    c = 0
    kinds = ["float"] * 8 + ["integer"] * 4 + ["zeros"] * 3 + ["negative"] * 3
    sizes = [(rng.integers(1, 9), rng.integers(1, 10)) for _ in kinds]
    # a few medium problems, where the simplex needs many (degenerate) pivots
    kinds += ["float", "integer", "zeros"]
    sizes += [(20, 30), (35, 25), (30, 30)]
    for kind, (na, nb) in zip(kinds, sizes):
        a = rng.random(na) + 0.05
        b = rng.random(nb) + 0.05
        if kind == "zeros":  # some zero weights
            a[rng.random(na) < 0.3] = 0.0
            b[rng.random(nb) < 0.3] = 0.0
            if a.sum() == 0:
                a[0] = 1.0
            if b.sum() == 0:
                b[-1] = 1.0
        if kind == "integer":  # integer masses and costs: degenerate pivots and tied optima
            a = rng.integers(1, 5, na).astype(float)
            b = rng.integers(1, 5, nb).astype(float)
            cost = rng.integers(0, 4, (na, nb)).astype(float)
        else:
            cost = rng.random((na, nb)) * 3.0
        if kind == "negative":
            cost -= 2.0
        if kind == "integer":
            # make the totals equal exactly, in integers
            diff = a.sum() - b.sum()
            if diff > 0:
                b[0] += diff
            else:
                a[0] -= diff
        else:
            a /= a.sum()
            b /= b.sum()
        out[f"c{c}_a"] = a
        out[f"c{c}_b"] = b
        out[f"c{c}_cost"] = cost
        out[f"c{c}_value"] = np.array(solve(a, b, cost))
        c += 1
    out["ncases"] = np.array(c, dtype=np.int64)
    path = os.path.join("tests", "fixtures", "ot", "lp_cases.npz")
    np.savez(path, **out)
    print(f"wrote {path} ({c} cases)")


if __name__ == "__main__":
    main()
