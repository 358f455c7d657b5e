#!/usr/bin/python3
"""Write the NumPy unicode-string fixtures of tests/test_io_text.c.

Run by hand with Debian's python3-numpy:  /usr/bin/python3 python/make_text_fixtures.py
Outputs tests/fixtures/io/text/: names.npy (what `ndyn simulate fields` stores
as `names`), mixed_le.npy / mixed_be.npy (non-ASCII, an empty string, both byte
orders), grid.npy (2-D), and strings.npz (a text member beside a number).
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "io", "text")
os.makedirs(out, exist_ok=True)
names = np.array(["linear left", "linear right", "vortex right", "vortex left"])
np.save(os.path.join(out, "names.npy"), names)
mixed = np.array(["caf\u00e9", "", "\u20ac\U0001d11e", "x"])
np.save(os.path.join(out, "mixed_le.npy"), mixed.astype("<U4"))
np.save(os.path.join(out, "mixed_be.npy"), mixed.astype(">U4"))
np.save(os.path.join(out, "grid.npy"), np.array([["a", "bb"], ["ccc", "d"]]))
np.savez(os.path.join(out, "strings.npz"), label=np.array(["reach1"]), x=np.arange(3.0))
print("wrote", out)
