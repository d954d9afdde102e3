#!/usr/bin/env python3
"""Writes an MLIR module with N linear layers y = x W, each W a K x K f32
weight given as a dense_resource blob (Student-t values, seeded), for timing
qet-quantize-weights. Usage: make_weights_module.py OUT.mlir [N] [K] [SEED]"""
import sys

import numpy as np

out = sys.argv[1]
layers = int(sys.argv[2]) if len(sys.argv) > 2 else 8
k = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 1)

t = f"tensor<{k}x{k}xf32>"
with open(out, "w") as f:
    f.write(f"func.func @mlp(%x: tensor<1x{k}xf32>) -> tensor<1x{k}xf32> {{\n")
    f.write("  %zero = arith.constant 0.0 : f32\n")
    f.write(f"  %e = tensor.empty() : tensor<1x{k}xf32>\n")
    f.write(f"  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x{k}xf32>) -> tensor<1x{k}xf32>\n")
    prev = "%x"
    for i in range(layers):
        f.write(f"  %w{i} = arith.constant dense_resource<w{i}> : {t}\n")
        f.write(f"  %y{i} = linalg.matmul ins({prev}, %w{i} : tensor<1x{k}xf32>, {t}) "
                f"outs(%acc : tensor<1x{k}xf32>) -> tensor<1x{k}xf32>\n")
        prev = f"%y{i}"
    f.write(f"  return {prev} : tensor<1x{k}xf32>\n}}\n")
    f.write("{-#\n  dialect_resources: {\n    builtin: {\n")
    for i in range(layers):
        w = (rng.standard_t(4, size=(k, k)) * 0.02).astype(np.float32)
        blob = np.uint32(4).tobytes() + w.tobytes()
        f.write(f'      w{i}: "0x{blob.hex().upper()}"' + ("," if i + 1 < layers else "") + "\n")
    f.write("    }\n  }\n#-}\n")
