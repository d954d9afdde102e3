#!/usr/bin/python3
"""Synthetic correlated calibration activations for docs/vptq-results.md.

x_t = s * (F z_t + e_t): per-channel scales s_j = exp(0.5 g_j), a shared
rank-8 factor F (N x 8, entries N(0, 1)) and unit noise e_t; tokens x N,
written as float32 .npy (no numpy needed). Usage:
  vptq_activations.py OUT.npy TOKENS N SEED
"""
import random
import struct
import sys

out, tokens, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
scale = [2.718281828 ** (0.5 * rng.gauss(0, 1)) for _ in range(n)]
factor = [[rng.gauss(0, 1) for _ in range(8)] for _ in range(n)]
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (tokens, n)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    for _ in range(tokens):
        z = [rng.gauss(0, 1) for _ in range(8)]
        row = [scale[j] * (sum(factor[j][k] * z[k] for k in range(8)) + rng.gauss(0, 1))
               for j in range(n)]
        f.write(struct.pack("<%df" % n, *row))
