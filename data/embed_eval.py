#!/usr/bin/python3
"""End-to-end accuracy of all-MiniLM-L6-v2 with quantized linear weights.

Usage: embed_eval.py DATA_DIR RECON.safetensors OUT.json [--label TEXT]

DATA_DIR is the export of prepare_minilm.py (it records the model folder).
RECON.safetensors holds reconstructed linear weights (bench/QuantizeModel -o);
every other parameter (embeddings, biases, LayerNorms) stays fp32. Runs the
numpy forward pass over the held-out sentences and writes the cosine
similarity of each sentence embedding with the fp32 model's embedding:
mean, min, median and the 5th percentile.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir")
    ap.add_argument("recon")
    ap.add_argument("out")
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    start = time.time()
    with open(os.path.join(args.data_dir, "manifest.json")) as f:
        model_dir = json.load(f)["model_dir"]
    weights = minilm.read_safetensors(os.path.join(model_dir, "model.safetensors"))
    recon = minilm.read_safetensors(args.recon)
    missing = [n for n in minilm.linear_weight_names() if n not in recon]
    if missing:
        raise SystemExit(f"error: {args.recon} lacks {len(missing)} linear weights, e.g. {missing[0]}")
    with open(os.path.join(args.data_dir, "heldout-tokens.json")) as f:
        tokens = json.load(f)
    ref = np.load(os.path.join(args.data_dir, "reference", "heldout-fp32.npy"))
    emb = minilm.MiniLM(weights, recon).embed(tokens)
    cos = (emb * ref).sum(1).astype(np.float64)
    result = {"label": args.label, "recon": os.path.abspath(args.recon),
              "sentences": len(tokens), "mean": float(cos.mean()), "min": float(cos.min()),
              "median": float(np.median(cos)), "p05": float(np.percentile(cos, 5)),
              "seconds": time.time() - start}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"  cosine vs fp32 {args.label}: mean {result['mean']:.5f} min {result['min']:.5f} "
          f"({result['seconds']:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
