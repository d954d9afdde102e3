"""Writes small .npy and .safetensors inputs for the qet-quantize tests with
the standard library only (no numpy): deterministic values from a fixed LCG."""
import json
import struct
import sys


def values(count, seed):
    state = seed
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(((state >> 40) / 2**24 - 0.5) * 0.1)
    return out


def write_npy(path, rows, cols, seed, dtype="<f4"):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }" % (dtype, rows, cols)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    code = "f" if dtype == "<f4" else "e"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (rows * cols, code), *values(rows * cols, seed)))


def write_safetensors(path, tensors):
    header, data = {}, b""
    for name, rows, cols, seed in tensors:
        blob = struct.pack("<%de" % (rows * cols), *values(rows * cols, seed))
        header[name] = {"dtype": "F16", "shape": [rows, cols],
                        "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    out = sys.argv[1]
    write_npy(out + "/weights.npy", 96, 130, 7)
    write_npy(out + "/keys.npy", 200, 32, 11)
    write_npy(out + "/queries.npy", 5, 32, 13)
    write_safetensors(out + "/model.safetensors",
                      [("layer.0.key.weight", 64, 48, 3), ("layer.0.value.weight", 64, 48, 5)])
    write_npy(out + "/nan.npy", 64, 32, 17)
    with open(out + "/nan.npy", "r+b") as f:  # element (3, 5) becomes NaN
        f.seek(128 + 4 * (3 * 32 + 5))
        f.write(struct.pack("<f", float("nan")))
    with open(out + "/broken.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'")
