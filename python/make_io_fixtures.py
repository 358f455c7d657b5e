#!/usr/bin/python3
"""Write the small NumPy/SciPy-made files that ndyn's I/O tests read back.

Run by hand with Debian's interpreter (python3-numpy, python3-scipy):

    /usr/bin/python3 python/make_io_fixtures.py

Outputs, under tests/fixtures/io/:
  npy/<dtype>_<C|F>_<le|be>_v<1|2|3>.npy   every dtype x order x byte order x
                                            format version (1-byte dtypes have
                                            no byte order: '|', written once as "na")
  npy/shape_*.npy                           scalar, 1-D, empty, 8-D arrays
  npy/structured_v3.npy                     format 3.0 with a UTF-8 field name
                                            (a structured dtype ndyn must refuse)
  npz/savez.npz, npz/savez_compressed.npz   numpy.savez / savez_compressed
  npz/descriptor.npz                        savez to a non-seekable stream: data
                                            descriptors after each member
  npz/comment.npz                           zip with an archive comment and a
                                            member that is not .npy
  mat/struct.mat                            scipy.io.savemat: struct array,
                                            scalar struct, cells, char, logical, ...
  mat/narrowed.mat                          hand-built: class double stored as
                                            uint8 / int16, as MATLAB writes
  expected.txt                              the values numpy holds for every
                                            array above, one line each:
      <file>[:<name>] <TAB> <dtype|text> <TAB> <shape, comma-separated> <TAB> <values>
  values in C order, floats as float.hex() (exact), integers in decimal, bools 0/1,
  text entries as the Python repr-free UTF-8 string with '\\n' escaped.
"""
import io
import os
import struct
import zipfile

import numpy as np
import scipy.io
import scipy.sparse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "io")
rng = np.random.default_rng(20240601)
expected = []

NDYN_NAME = {"f4": "float32", "f8": "float64", "i1": "int8", "i2": "int16", "i4": "int32",
             "i8": "int64", "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
             "b1": "bool"}


def values_for(code, n):
    """n values of dtype `code` that exercise its whole range."""
    if code == "b1":
        return (rng.integers(0, 2, n) == 1)
    if code[0] == "f":
        t = np.float32 if code == "f4" else np.float64
        v = rng.normal(size=n) * 10.0 ** rng.integers(-5, 6, n)
        v = v.astype(t)
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(t).tiny / 4, np.finfo(t).max]
        v[:len(specials)] = np.array(specials, dtype=t)
        return v
    t = np.dtype(code).type
    info = np.iinfo(t)
    v = rng.integers(info.min, info.max, n, dtype=t, endpoint=True)
    edges = [info.min, info.max, 0, 1] + ([-1] if info.min < 0 else [])
    v[:len(edges)] = np.array(edges, dtype=t)
    return v


def fmt_values(a):
    flat = np.ascontiguousarray(a).reshape(-1)
    k = a.dtype.kind
    if k == "f":
        return " ".join(float(x).hex() for x in flat)
    if k == "b":
        return " ".join("1" if x else "0" for x in flat)
    return " ".join(str(int(x)) for x in flat)


def record(key, a):
    code = a.dtype.str[1:]
    shape = ",".join(str(d) for d in a.shape)
    expected.append(f"{key}\t{NDYN_NAME[code]}\t{shape}\t{fmt_values(a)}")


def record_text(key, s):
    expected.append(f"{key}\ttext\t\t{s.encode('unicode_escape').decode('ascii')}")


def write_npy(rel, a, version, fortran):
    path = os.path.join(ROOT, rel)
    arr = np.array(a, order="F" if fortran else "C", copy=True)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version)
    # What NumPy itself reads back is the expectation.
    back = np.load(path)
    assert back.dtype == a.dtype and back.shape == a.shape
    record(rel, back)


def main():
    for sub in ("npy", "npz", "mat"):
        os.makedirs(os.path.join(ROOT, sub), exist_ok=True)

    # Every dtype x order x byte order x version, shape (2, 3, 4).
    for code in ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]:
        base = values_for(code, 24).reshape(2, 3, 4)
        orders = ["na"] if np.dtype(code).itemsize == 1 else ["le", "be"]
        for bo in orders:
            dt = np.dtype(code) if bo == "na" else np.dtype(("<" if bo == "le" else ">") + code)
            a = base.astype(dt)
            for order in ["C", "F"]:
                for ver in [1, 2, 3]:
                    write_npy(f"npy/{code}_{order}_{bo}_v{ver}.npy", a, (ver, 0), order == "F")

    # Shapes: scalar, 1-D, empty, 8-D, Fortran 2-D.
    write_npy("npy/shape_scalar.npy", np.array(3.25), (1, 0), False)
    write_npy("npy/shape_1d.npy", np.arange(5, dtype="<i8") - 2, (1, 0), False)
    write_npy("npy/shape_empty.npy", np.zeros((0, 3)), (1, 0), False)
    write_npy("npy/shape_8d.npy", np.arange(2 ** 8, dtype="<i2").reshape((2,) * 8), (1, 0), False)
    write_npy("npy/shape_f2d.npy", np.arange(12, dtype=">f8").reshape(3, 4), (1, 0), True)

    # Format 3.0 exists for UTF-8 in the header, i.e. structured dtypes with
    # non-ASCII field names, which ndyn refuses (clearly).
    with open(os.path.join(ROOT, "npy/structured_v3.npy"), "wb") as f:
        np.lib.format.write_array(f, np.zeros(2, dtype=[("\u00e9t\u00e9", "<f8")]), version=(3, 0))

    arrays = {
        "a": np.arange(12, dtype=np.float64).reshape(3, 4) / 8.0,
        "b": np.array([-3, 0, 7, 2 ** 31 - 1, -2 ** 31], dtype=np.int32),
        "c": np.array([[1, 2], [3, 250]], dtype=np.uint8),
        "flags": np.array([True, False, True]),
        "s": np.array(2.5),
        "big": rng.normal(size=(40, 7)).astype(np.float32),
    }
    np.savez(os.path.join(ROOT, "npz/savez.npz"), **arrays)
    np.savez_compressed(os.path.join(ROOT, "npz/savez_compressed.npz"), **arrays)

    class NoSeek(io.RawIOBase):
        """A write-only stream: zipfile falls back to data descriptors."""

        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def seekable(self):
            return False

        def write(self, b):
            self.buf += bytes(b)
            return len(b)

    ns = NoSeek()
    np.savez_compressed(ns, **arrays)
    with open(os.path.join(ROOT, "npz/descriptor.npz"), "wb") as f:
        f.write(ns.buf)

    with zipfile.ZipFile(os.path.join(ROOT, "npz/comment.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("a", "b"):
            bio = io.BytesIO()
            np.lib.format.write_array(bio, arrays[name])
            z.writestr(name + ".npy", bio.getvalue())
        z.writestr("README.txt", b"not an array\n")
        z.comment = b"written by make_io_fixtures.py"

    for f in ("savez", "savez_compressed", "descriptor", "comment"):
        path = os.path.join(ROOT, f"npz/{f}.npz")
        with np.load(path) as d:
            for name in d.files:
                if name == "README.txt":
                    continue
                record(f"npz/{f}.npz:{name}", d[name])
    # Check the descriptor file really has data descriptors (flag bit 3).
    with zipfile.ZipFile(os.path.join(ROOT, "npz/descriptor.npz")) as z:
        assert all(i.flag_bits & 0x08 for i in z.infolist())

    # MATLAB: struct array D(1..3) with data/condition, a scalar struct, cells.
    D = np.zeros((1, 3), dtype=[("data", "O"), ("condition", "O")])
    for i in range(3):
        D[0, i]["data"] = (rng.integers(0, 2, (2, 5)) + 10 * i).astype(np.uint8)
        D[0, i]["condition"] = f"reach{i + 1}"
    S = np.zeros((1, 1), dtype=[("x", "O"), ("name", "O")])
    S[0, 0]["x"] = np.array([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]])
    S[0, 0]["name"] = "scalar struct"
    C = np.empty((1, 2), dtype=object)
    C[0, 0] = np.array([[7, -8, 9]], dtype=np.int16)
    C[0, 1] = "cell text"
    mat = {
        "D": D,
        "S": S,
        "C": C,
        "M": np.arange(24, dtype=np.float64).reshape(2, 3, 4),
        "single": np.array([[0.5, 1.5], [2.5, 3.5]], dtype=np.float32),
        "logic": np.array([[True, False, True]]),
        "i64": np.array([[-(2 ** 62), 2 ** 62]], dtype=np.int64),
        "sp": scipy.sparse.csc_matrix(np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])),
    }
    scipy.io.savemat(os.path.join(ROOT, "mat/struct.mat"), mat, do_compression=True)
    back = scipy.io.loadmat(os.path.join(ROOT, "mat/struct.mat"))
    for i in range(3):
        record(f"mat/struct.mat:D[{i}].data", back["D"][0, i]["data"])
        record_text(f"mat/struct.mat:D[{i}].condition", str(back["D"][0, i]["condition"][0]))
    record("mat/struct.mat:S.x", back["S"][0, 0]["x"])
    record_text("mat/struct.mat:S.name", str(back["S"][0, 0]["name"][0]))
    record("mat/struct.mat:C{0}", back["C"][0, 0])
    record_text("mat/struct.mat:C{1}", str(back["C"][0, 1][0]))
    record("mat/struct.mat:M", back["M"])
    record("mat/struct.mat:single", back["single"])
    record("mat/struct.mat:logic", back["logic"].astype(bool))
    record("mat/struct.mat:i64", back["i64"])
    record("mat/struct.mat:sp", back["sp"].toarray())

    # MATLAB itself stores integer-valued doubles compactly (class double,
    # data as uint8/int16/...); SciPy never writes that, so build such a file
    # element by element (MAT v5 level-5 format, little-endian, uncompressed).
    def element(mtype, payload):
        pad = (-len(payload)) % 8
        return struct.pack("<II", mtype, len(payload)) + payload + b"\0" * pad

    def matrix(name, cls, dims, mtype, data):
        body = element(6, struct.pack("<II", cls, 0))             # array flags
        body += element(5, struct.pack("<%di" % len(dims), *dims))  # dimensions
        body += element(1, name.encode())                          # name
        body += element(mtype, data)                               # real part
        return struct.pack("<II", 14, len(body)) + body

    head = b"MATLAB 5.0 MAT-file, written by make_io_fixtures.py".ljust(116, b" ")
    head += b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    x = np.array([[1, 2, 3], [4, 5, 250]], dtype=np.uint8)
    y = np.array([[-300, 7]], dtype=np.int16)
    z = np.array([[0.5, 2.0]])
    body = matrix("x", 6, [2, 3], 2, x.tobytes(order="F"))   # double stored as miUINT8
    body += matrix("y", 6, [1, 2], 3, y.tobytes(order="F"))  # double stored as miINT16
    body += matrix("z", 6, [1, 2], 9, z.tobytes(order="F"))  # double stored as double
    with open(os.path.join(ROOT, "mat/narrowed.mat"), "wb") as f:
        f.write(head + body)
    back = scipy.io.loadmat(os.path.join(ROOT, "mat/narrowed.mat"))
    for k in "xyz":
        record(f"mat/narrowed.mat:{k}", back[k])

    with open(os.path.join(ROOT, "expected.txt"), "w") as f:
        f.write("# written by python/make_io_fixtures.py from what NumPy/SciPy read back\n")
        f.write("\n".join(expected) + "\n")
    total = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(ROOT) for x in fs)
    print(f"{len(expected)} expected entries, {total} bytes under {ROOT}")


if __name__ == "__main__":
    main()
