#!/usr/bin/python3
"""An independent safetensors writer/reader in Python (numpy + struct + json only), used to check
medfield's TypeScript codec (src/io/safetensors.ts) from the other side.

    python3 scripts/safetensors-check.py write test/fixtures/python-written.safetensors
        Writes the committed fixture: one tensor of each dtype medfield reads (F32, F64, I32, U8,
        I64, F16) with edge values, deliberately NOT in the reference library's layout (tensors
        in a mixed dtype order, so some are unaligned; header with Python's default separators)
        to check that the reader follows the header rather than assumptions.

    python3 scripts/safetensors-check.py dump FILE
        Reads FILE with the spec alone (8-byte little-endian header length, JSON header,
        data_offsets relative to the data section; tensors must tile the data section) and prints
        one JSON object: {"metadata": {...}, "tensors": {name: {"dtype", "shape", "values"}}},
        values flattened in C order as Python floats/ints (NaN/Infinity as strings). If the
        `safetensors` package is installed, the file is also loaded with
        safetensors.numpy.load_file and every array must equal ours bit for bit.

The spec: https://github.com/huggingface/safetensors (README, "Format").
"""
import json
import struct
import sys

import numpy as np

DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "U64": np.dtype("<u8"), "I32": np.dtype("<i4"), "U32": np.dtype("<u4"),
    "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "I8": np.dtype("i1"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}


def fixture_tensors():
    """Name -> (dtype, array). Order here is the order in the data section."""
    return [
        ("half.f16", "F16", np.array([1.0, -2.0, 0.5, 65504.0, 6e-8, np.inf], dtype="<f2")),
        ("weights.f32", "F32", np.array([[1.5, -2.25, 0.0], [-0.0, 3.4028234663852886e38, 1e-45]], dtype="<f4")),
        ("mask.u8", "U8", np.array([[0, 1], [254, 255]], dtype="u1")),
        ("grid.f64", "F64", np.array([np.pi, -1e300, np.nan], dtype="<f8")),
        ("index.i32", "I32", np.array([-2147483648, -1, 0, 2147483647], dtype="<i4")),
        ("count.i64", "I64", np.array([-9007199254740993, 2**62], dtype="<i8")),
        ("empty.f32", "F32", np.zeros((0, 4), dtype="<f4")),
    ]


def write(path):
    header = {"__metadata__": {"format": "np", "writer": "scripts/safetensors-check.py"}}
    blobs = []
    offset = 0
    for name, dtype, arr in fixture_tensors():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode("utf-8")  # default separators ", " and ": "
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def py_value(v):
    if isinstance(v, float):
        if v != v:
            return "NaN"
        if v in (float("inf"), float("-inf")):
            return "Infinity" if v > 0 else "-Infinity"
    return v


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    metadata = header.pop("__metadata__", {})
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    pos = 0
    for b, e, k in spans:
        assert b == pos, f"tensor {k}: begins at {b}, expected {pos}"
        pos = e
    assert pos == len(body), f"data section {len(body)} bytes, tensors cover {pos}"
    arrays = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        dt = DTYPES[v["dtype"]]
        arr = np.frombuffer(body[b:e], dtype=dt).reshape(v["shape"])
        arrays[k] = (v["dtype"], arr)
    return metadata, arrays


def dump(path):
    metadata, arrays = read(path)
    out = {"metadata": metadata, "tensors": {}}
    for k, (dtype, arr) in arrays.items():
        flat = arr.reshape(-1)
        if dtype == "F16":
            flat = flat.astype(np.float64)
        out["tensors"][k] = {"dtype": dtype, "shape": list(arr.shape), "values": [py_value(x.item()) for x in flat]}
    try:
        from safetensors.numpy import load_file  # optional cross-check with the reference library
    except ImportError:
        out["reference_library"] = False
    else:
        ref = load_file(path)
        for k, (_, arr) in arrays.items():
            assert ref[k].tobytes() == arr.tobytes() and list(ref[k].shape) == list(arr.shape), f"reference library disagrees on {k}"
        out["reference_library"] = True
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("write", "dump"):
        sys.exit(__doc__)
    (write if sys.argv[1] == "write" else dump)(sys.argv[2])
