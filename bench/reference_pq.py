#!/usr/bin/python3
"""The reference PQ fit, timed single-threaded.

Fits PQ the way the QET authors' numpy/scipy release does (nanopq style): for
each of the M subspaces, reseed numpy's global PRNG with the same seed and run
scipy.cluster.vq.kmeans2(sub, Ks, iter=20, minit='points'), then encode every
subspace with scipy.cluster.vq.vq. The input is the matrix PqFitBench uses:
4096 x 128 fp32, 0.02 * N(0, 1) from the project's Rng (xoshiro256** seeded
by splitmix64, Box-Muller), reproduced below bit for bit so both programs fit
the same bytes (checked through the FNV-1a hash each reports).

Run with /usr/bin/python3 (numpy, scipy). BLAS threads are pinned to 1 before
numpy is imported. Prints a JSON object (median seconds, every time, relative
MSE, input hash); --json FILE also writes it there.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.cluster.vq import kmeans2, vq  # noqa: E402

MASK = (1 << 64) - 1


class ProjectRng:
    """qet::quant::Rng (lib/Quantizer/Random.cpp), same stream."""

    def __init__(self, seed):
        self.state = []
        x = seed & MASK
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.state.append(z ^ (z >> 31))
        self.spare = None

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    def next(self):
        s = self.state
        result = (self._rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53

    def normal(self):
        if self.spare is not None:
            value, self.spare = self.spare, None
            return value
        u1 = self.uniform()
        while u1 <= 0.0:
            u1 = self.uniform()
        u2 = self.uniform()
        radius = math.sqrt(-2.0 * math.log(u1))
        angle = 2.0 * math.pi * u2
        self.spare = radius * math.sin(angle)
        return radius * math.cos(angle)


def project_gaussian(rows, cols, seed, scale):
    rng = ProjectRng(seed)
    normals = np.array([rng.normal() for _ in range(rows * cols)])
    # fp32 product of fp32 operands, as `scale * static_cast<float>(normal)`.
    values = np.float32(scale) * normals.astype(np.float32)
    return values.astype(np.float32).reshape(rows, cols)


def fnv1a32(data):
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def fit_pq(x, m, ks, iterations, seed):
    """nanopq-style PQ.fit followed by PQ.encode."""
    n, d = x.shape
    ds = d // m
    codewords = np.zeros((m, ks, ds), dtype=np.float32)
    for s in range(m):
        np.random.seed(seed)
        codewords[s], _ = kmeans2(x[:, s * ds:(s + 1) * ds], ks,
                                  iter=iterations, minit="points")
    codes = np.empty((n, m), dtype=np.uint16)
    for s in range(m):
        codes[:, s], _ = vq(x[:, s * ds:(s + 1) * ds], codewords[s])
    return codewords, codes


def decode(codewords, codes):
    return np.hstack([codewords[s][codes[:, s]] for s in range(codes.shape[1])])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096)
    parser.add_argument("--cols", type=int, default=128)
    parser.add_argument("--subspaces", type=int, default=8)
    parser.add_argument("--centroids", type=int, default=440)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--data-seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()

    # kmeans2 warns about empty clusters and keeps them: the reference's
    # behaviour, without the console noise.
    warnings.simplefilter("ignore")
    x = project_gaussian(args.rows, args.cols, args.data_seed, 0.02)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        codewords, codes = fit_pq(x, args.subspaces, args.centroids,
                                  args.iterations, args.seed)
        times.append(time.perf_counter() - start)
    error = decode(codewords, codes).astype(np.float64) - x
    result = {
        "implementation": "numpy/scipy reference (kmeans2, minit='points')",
        "threads": 1,
        "median_s": float(np.median(times)),
        "times_s": times,
        "relative_mse": float(np.mean(error**2) / np.mean(x.astype(np.float64)**2)),
        "input_fnv32": fnv1a32(x.tobytes()),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": sys.version.split()[0],
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
