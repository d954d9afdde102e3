#!/usr/bin/env python3
"""Writes the two-layer MLP y = relu(x W1^T) W2^T of examples/mlp-aot:
W1 [H, D] and W2 [O, H], Student-t (nu = 4) values scaled by 0.02 (heavy
tails, like trained weights), seeded, as OUT_DIR/w1.npy and w2.npy (float32)
and OUT_DIR/mlp.mlir, which holds the same values as dense_resource f32
constants and defines @mlp_b1 and @mlp_b8 (batch 1 and 8, static shapes,
C interface). Run with a Python that has numpy (Debian's /usr/bin/python3).

Usage: make_mlp_module.py OUT_DIR [--dim D] [--hidden H] [--out O] [--seed S]
"""
import argparse
import os

import numpy as np

BATCHES = (1, 8)

# x [b, k] times w [n, k] indexed (n, k): the form qet-quantize-weights packs
# without a transpose and qet-fuse-dequant turns into qet.qmatmul.
HEADER = """\
// y = relu(x W1^T) W2^T with W1 {h}x{d}, W2 {o}x{h} as f32 constants.
// Written by examples/mlp-aot/make_mlp_module.py (seed {seed}); compiled by
// qet-opt --qet-quantize-weights --qet-cpu-pipeline (examples/mlp-aot).

#matmul_nt = [affine_map<(m, n, k) -> (m, k)>,
              affine_map<(m, n, k) -> (n, k)>,
              affine_map<(m, n, k) -> (m, n)>]
#id = affine_map<(i, j) -> (i, j)>
"""

FUNCTION = """
func.func @mlp_b{b}(%x: memref<{b}x{d}xf32>, %y: memref<{b}x{o}xf32>)
    attributes {{llvm.emit_c_interface}} {{
  %xt = bufferization.to_tensor %x restrict : memref<{b}x{d}xf32> to tensor<{b}x{d}xf32>
  %w1 = arith.constant dense_resource<w1> : tensor<{h}x{d}xf32>
  %w2 = arith.constant dense_resource<w2> : tensor<{o}x{h}xf32>
  %zero = arith.constant 0.0 : f32
  %he = tensor.empty() : tensor<{b}x{h}xf32>
  %hz = linalg.fill ins(%zero : f32) outs(%he : tensor<{b}x{h}xf32>) -> tensor<{b}x{h}xf32>
  %h = linalg.matmul indexing_maps = #matmul_nt
      ins(%xt, %w1 : tensor<{b}x{d}xf32>, tensor<{h}x{d}xf32>)
      outs(%hz : tensor<{b}x{h}xf32>) -> tensor<{b}x{h}xf32>
  %a = linalg.generic {{indexing_maps = [#id], iterator_types = ["parallel", "parallel"]}}
      outs(%h : tensor<{b}x{h}xf32>) {{
  ^bb0(%v: f32):
    %r = arith.maximumf %v, %zero : f32
    linalg.yield %r : f32
  }} -> tensor<{b}x{h}xf32>
  %ye = tensor.empty() : tensor<{b}x{o}xf32>
  %yz = linalg.fill ins(%zero : f32) outs(%ye : tensor<{b}x{o}xf32>) -> tensor<{b}x{o}xf32>
  %yt = linalg.matmul indexing_maps = #matmul_nt
      ins(%a, %w2 : tensor<{b}x{h}xf32>, tensor<{o}x{h}xf32>)
      outs(%yz : tensor<{b}x{o}xf32>) -> tensor<{b}x{o}xf32>
  bufferization.materialize_in_destination %yt in restrict writable %y
      : (tensor<{b}x{o}xf32>, memref<{b}x{o}xf32>) -> ()
  return
}}
"""


def resource_blob(w):
    """A dense_resource blob: 4-byte alignment, then the raw f32 bytes (as
    bench/make_weights_module.py writes them)."""
    return '"0x' + (np.uint32(4).tobytes() + w.tobytes()).hex().upper() + '"'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--dim", type=int, default=1024, help="D (input)")
    parser.add_argument("--hidden", type=int, default=4096, help="H")
    parser.add_argument("--out", type=int, default=1024, help="O (output)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    d, h, o = args.dim, args.hidden, args.out
    if min(d, h, o) < 1:
        parser.error("sizes must be positive")

    rng = np.random.default_rng(args.seed)
    w1 = (rng.standard_t(4, size=(h, d)) * 0.02).astype(np.float32)
    w2 = (rng.standard_t(4, size=(o, h)) * 0.02).astype(np.float32)
    os.makedirs(args.out_dir, exist_ok=True)
    np.save(os.path.join(args.out_dir, "w1.npy"), w1)
    np.save(os.path.join(args.out_dir, "w2.npy"), w2)

    # Written under a temporary name so that an interrupted run leaves no
    # truncated module that the build would take as up to date.
    path = os.path.join(args.out_dir, "mlp.mlir")
    with open(path + ".tmp", "w") as f:
        f.write(HEADER.format(d=d, h=h, o=o, seed=args.seed))
        for b in BATCHES:
            f.write(FUNCTION.format(b=b, d=d, h=h, o=o))
        f.write("\n{-#\n  dialect_resources: {\n    builtin: {\n")
        f.write(f"      w1: {resource_blob(w1)},\n")
        f.write(f"      w2: {resource_blob(w2)}\n")
        f.write("    }\n  }\n#-}\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
