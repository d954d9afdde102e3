#!/usr/bin/python3
"""Formats the qet-quantize --json runs of bench/run_qet_table.sh into
docs/qet-results.md. Arguments: RAW_DIR OUTPUT COMMAND QUICK MATRIX_SPEC...
(name:family:shape:category). RAW_DIR/run.meta holds the load averages
before and after, the elapsed seconds and the date of the run."""

import glob
import json
import math
import os
import platform
import re
import sys

raw, out_path, command, quick = sys.argv[1:5]
specs = [s.split(":") for s in sys.argv[5:]]
quick = quick == "1"
load_before, load_after, elapsed, run_date = open(
    os.path.join(raw, "run.meta")).read().splitlines()[:4]

BASELINES = ("pq", "opq", "lopq")
PAPER = {"weights": 5.05, "K": 13.33, "V": 11.89}
FAMILY_TEXT = {
    "student-t": "Student-t (nu = 4)",
    "outlier-columns": "Gaussian + outlier columns (x20)",
    "laplace": "Laplace",
    "gaussian": "Gaussian",
}
CATEGORY_TEXT = {"weights": "weight-like", "K": "K-cache-like", "V": "V-cache-like"}

# data[(name, bpe)][variant][m] = entry
data = {}
names = {spec[0] for spec in specs}
for path in glob.glob(os.path.join(raw, "*.json")):
    name, bpe, m, variant = os.path.basename(path)[:-5].split(",")
    if name not in names:
        continue
    entries = json.load(open(path))
    for entry in entries:
        key = variant if variant != "main" else entry["scheme"]
        data.setdefault((name, float(bpe)), {}).setdefault(key, {})[int(m)] = entry

budgets = sorted({b for (_, b) in data})


def ok(entry):
    return entry is not None and "error" not in entry


def rel(entry):
    return entry["rel_error"] ** 2


def best(runs):
    """(m, entry) with the lowest MSE among successful runs (ties: smaller M)."""
    good = [(e["mse"], m, e) for m, e in sorted(runs.items()) if ok(e)]
    if not good:
        return None, None
    mse, m, e = min(good, key=lambda t: (t[0], t[1]))
    return m, e


def best_baseline_at(cell, m):
    good = [(cell[s][m]["mse"], s) for s in BASELINES
            if s in cell and ok(cell[s].get(m))]
    return min(good) if good else None


def best_baseline(cell):
    good = []
    for s in BASELINES:
        m, e = best(cell.get(s, {}))
        if e:
            good.append((e["mse"], s, m))
    return min(good) if good else None


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def pct(value):
    return "n/a" if value is None else f"{100 * value:.1f}%"


def sci(value):
    return f"{value:.3e}"


def config_text(scheme, entry):
    p = entry["params"]
    if scheme.startswith("qet"):
        return (f"l={p['depth'].replace(' (auto)', '')} "
                f"split={p['split'].replace(' (auto)', '')} Ks={p['Ks']}")
    if scheme.startswith("hera"):
        return f"l={p['depth'].replace(' (auto)', '')} Ks={p['Ks']}"
    if scheme == "rtn":
        return f"b={p['bits']} g={p['group']}"
    if scheme == "lopq":
        return f"Ks={p['Ks']} (clusters {p.get('cluster Ks', '')})"
    return f"Ks={p['Ks']}"


def failure_text(entry):
    match = re.search(r"needs (\d+) bits \(([\d.]+) bpe\)", entry.get("error", ""))
    return f"over budget (needs {match.group(2)} bpe)" if match else "failed"


SCHEMES = [("rtn", "RTN (g=128)"), ("pq", "PQ"), ("opq", "OPQ"), ("lopq", "LOPQ"),
           ("hera-l3", "HERA l=3"), ("hera", "HERA (l searched)"),
           ("qet-ref", "QET ref. defaults"), ("qet", "QET (l, split searched)")]

lines = []
add = lines.append
add("# HERA and QET against RTN, PQ, OPQ and LOPQ on synthetic matrices")
add("")
if quick:
    add("**Quick run (QET_TABLE_QUICK=1): a subset for checking the script, not the full table.**")
    add("")
add("Produced by `bench/run_qet_table.sh` (raw numbers from `qet-quantize --json`; command and")
add("machine at the end). Specs: `qet.md` (HERA, QET, budget solver), `qem.md` (ledger, baselines).")
add("")
add("Setup. fp32 inputs (cb = 32), σ = 0.02, data seed 1, quantizer seed 123, 20 Lloyd iterations,")
add("budgets B = 2, 3, 4 bits per element with every stored bit charged (codebooks at 32 bits,")
add("rotations at 32 bits, swap bits, QET's 10-bit codebook levels and (lo, step)); every result's")
add("exact bpe is ≤ B. Matrices:")
add("")
for name, family, shape, category in specs:
    add(f"- **{name}** ({CATEGORY_TEXT[category]}): {FAMILY_TEXT.get(family, family)} {shape.replace('x', ' × ')}")
add("")
add("Every codebook scheme ran at every power-of-two M from 4 to d/2 (`--subspaces M`).")
add("**HERA (l searched)** tries depths l = 0..3 at each M; **QET** (the `qet` scheme with")
add("its options unset) tries first-stage depths 0..3 (second stage 0) × splits 0.3/0.7 … 0.9/0.1")
add("at each M, codebook bits 10. **QET ref. defaults** and **HERA l=3** are the reference's")
add("configurations (depths 3,0; split 0.7/0.3; 10-bit codebooks). RTN (`rtn`, group 128) uses")
add("the largest bit width that fits, i.e. 1.25 / 2.25 / 3.25 bpe. *rel. MSE* = MSE / mean(X²).")
add("Ratios are MSE(QET) / min(MSE(PQ), MSE(OPQ), MSE(LOPQ)), either at the same M or")
add("best-vs-best (each side at its own best M over the same M grid).")
add("")

# ---------------------------------------------------------------- headline
summary = []  # per (name, bpe)
for name, family, shape, category in specs:
    for b in budgets:
        cell = data.get((name, b))
        if not cell:
            continue
        ms = sorted(cell.get("pq", {}))
        same, same_ref, same_hera = [], [], []
        for m in ms:
            base = best_baseline_at(cell, m)
            if not base:
                continue
            for key, bucket in (("qet", same), ("qet-ref", same_ref), ("hera", same_hera)):
                e = cell.get(key, {}).get(m)
                bucket.append((m, e["mse"] / base[0] if ok(e) else None))
        bb = best_baseline(cell)
        row = {"name": name, "category": category, "bpe": b, "baseline": bb}
        for key in ("qet", "qet-ref", "hera", "hera-l3", "rtn"):
            m, e = best(cell.get(key, {}))
            row[key] = (m, e)
            row[key + "/bb"] = e["mse"] / bb[0] if (e and bb) else None
        row["same"] = same
        row["same_ref"] = same_ref
        row["same_hera"] = same_hera
        summary.append(row)

add("## Headline: QET / best baseline")
add("")
add("| matrix | B | best baseline (best-vs-best) | QET best-vs-best | QET same M: geo-mean [range] | QET same M at M=4 | QET ref. best-vs-best | QET ref. same M: geo-mean | HERA best-vs-best | QET / RTN |")
add("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for r in summary:
    bb = r["baseline"]
    same = [v for _, v in r["same"] if v]
    at4 = dict(r["same"]).get(4)
    qet_m, qet_e = r["qet"]
    rtn_m, rtn_e = r["rtn"]
    vs_rtn = qet_e["mse"] / rtn_e["mse"] if (qet_e and rtn_e) else None
    add(f"| {r['name']} | {r['bpe']:g} | {bb[1].upper()} M={bb[2]} ({sci(bb[0])}) | "
        f"**{pct(r['qet/bb'])}** (M={qet_m}) | {pct(geomean(same))} "
        f"[{pct(min(same)) if same else 'n/a'} – {pct(max(same)) if same else 'n/a'}] | {pct(at4)} | "
        f"{pct(r['qet-ref/bb'])} (M={r['qet-ref'][0]}) | "
        f"{pct(geomean([v for _, v in r['same_ref']]))} | {pct(r['hera/bb'])} | {pct(vs_rtn)} |")
add("")
add("Geometric means per category, beside the paper's reported ratios (v4 / ICLR submission;")
add("the paper's models, shapes, budgets and M are unknown):")
add("")
add("| category | paper | QET best-vs-best | QET same M (all M) | QET same M at M=4 | QET ref. best-vs-best | QET ref. same M (all M) | HERA (l searched) best-vs-best |")
add("|---|---:|---:|---:|---:|---:|---:|---:|")
for category in ("weights", "K", "V"):
    rows = [r for r in summary if r["category"] == category]
    if not rows:
        continue
    add(f"| {category} | {PAPER[category]:.2f}% | "
        f"{pct(geomean([r['qet/bb'] for r in rows]))} | "
        f"{pct(geomean([v for r in rows for _, v in r['same']]))} | "
        f"{pct(geomean([dict(r['same']).get(4) for r in rows]))} | "
        f"{pct(geomean([r['qet-ref/bb'] for r in rows]))} | "
        f"{pct(geomean([v for r in rows for _, v in r['same_ref']]))} | "
        f"{pct(geomean([r['hera/bb'] for r in rows]))} |")
add("")

# ---------------------------------------------------------------- best over M
add("## Each scheme at its best M")
add("")
add("Time: wall seconds of the run at the best M (for HERA and QET this includes their depth /")
add("split search at that M: 4 and up to 28 fits), and the sum over all M tried (what `M=auto`")
add("costs). 2 threads.")
for name, family, shape, category in specs:
    add("")
    add(f"### {name}: {FAMILY_TEXT.get(family, family)} {shape.replace('x', ' × ')} ({CATEGORY_TEXT[category]})")
    add("")
    add("| B | scheme | bpe | M | configuration | MSE | rel. MSE | MAE | time at best M (s) | time over all M (s) |")
    add("|---:|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for b in budgets:
        cell = data.get((name, b))
        if not cell:
            continue
        for key, label in SCHEMES:
            runs = cell.get(key, {})
            m, e = best(runs)
            if not e:
                errors = [x for x in runs.values() if not ok(x)]
                reason = failure_text(errors[0]) if errors else "not run"
                add(f"| {b:g} | {label} | | | {reason} at every M | | | | | |")
                continue
            total = sum(x.get("seconds", 0) for x in runs.values() if ok(x))
            add(f"| {b:g} | {label} | {e['bpe']:.4f} | {m if key != 'rtn' else ''} | "
                f"{config_text(key, e)} | {sci(e['mse'])} | {rel(e):.4f} | {sci(e['mae'])} | "
                f"{e['seconds']:.2f} | {total:.1f} |")
add("")

# ---------------------------------------------------------------- same M
add("## At the same M")
add("")
add("rel. MSE per M; ratio columns against the best of PQ, OPQ and LOPQ at that M.")
for name, family, shape, category in specs:
    for b in budgets:
        cell = data.get((name, b))
        if not cell:
            continue
        add("")
        add(f"### {name}, B = {b:g}")
        add("")
        add("| M | PQ | OPQ | LOPQ | HERA l=3 | HERA | QET ref. | QET (chosen l; split) | QET / best | QET ref. / best | HERA / best |")
        add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for m in sorted(cell.get("pq", {})):
            def value(key):
                e = cell.get(key, {}).get(m)
                return f"{rel(e):.4f}" if ok(e) else "—"
            base = best_baseline_at(cell, m)
            def ratio(key):
                e = cell.get(key, {}).get(m)
                return pct(e["mse"] / base[0]) if (ok(e) and base) else "n/a"
            q = cell.get("qet", {}).get(m)
            chosen = ""
            if ok(q):
                chosen = (f" ({q['params']['depth'].replace(' (auto)', '')}; "
                          f"{q['params']['split'].replace(' (auto)', '')})")
            add(f"| {m} | {value('pq')} | {value('opq')} | {value('lopq')} | {value('hera-l3')} | "
                f"{value('hera')} | {value('qet-ref')} | {value('qet')}{chosen} | "
                f"{ratio('qet')} | {ratio('qet-ref')} | {ratio('hera')} |")
add("")

# ---------------------------------------------------------------- depth study
depth_rows = []
add("## Depth investigation (K- and V-like)")
add("")
add("QET with the first-stage depth fixed (second stage 0), M and split searched, against the")
add("best baseline (best-vs-best). The swap bits cost l·n·d/2 bits = 0.5·l bpe before any")
add("codebook or code bit is stored.")
add("")
add("| matrix | B | best baseline | l=0 | l=1 | l=2 | l=3 | best l |")
add("|---|---:|---|---:|---:|---:|---:|---:|")
for name, family, shape, category in specs:
    if category == "weights":
        continue
    for b in budgets:
        cell = data.get((name, b))
        if not cell:
            continue
        bb = best_baseline(cell)
        cells, best_l = [], None
        for l in range(4):
            m, e = best(cell.get(f"qet-l{l}", {}))
            if e:
                ratio = e["mse"] / bb[0]
                cells.append(f"{pct(ratio)} (M={m}, split {e['params']['split'].replace(' (auto)', '')})")
                if best_l is None or ratio < best_l[1]:
                    best_l = (l, ratio)
            else:
                cells.append("over budget")
        depth_rows.append((name, b, best_l))
        add(f"| {name} | {b:g} | {bb[1].upper()} M={bb[2]} | " + " | ".join(cells) +
            f" | {best_l[0] if best_l else 'n/a'} |")
add("")
for name, family, shape, category in specs:
    if category == "weights":
        continue
    b = max(budgets)
    cell = data.get((name, b))
    if not cell:
        continue
    ms = sorted(cell.get("pq", {}))
    add(f"{name} at B = {b:g}, rel. MSE of QET per (first-stage depth, M), split searched; PQ for reference:")
    add("")
    add("| l \\ M | " + " | ".join(str(m) for m in ms) + " |")
    add("|---|" + "---:|" * len(ms))
    for l in range(4):
        row = []
        for m in ms:
            e = cell.get(f"qet-l{l}", {}).get(m)
            row.append(f"{rel(e):.4f}" if ok(e) else "—")
        add(f"| l={l} | " + " | ".join(row) + " |")
    add("| PQ | " + " | ".join(f"{rel(cell['pq'][m]):.4f}" if ok(cell['pq'].get(m)) else "—" for m in ms) + " |")
    add("")

# ---------------------------------------------------------------- discussion
def stat(category, key):
    rows = [r for r in summary if r["category"] == category]
    return geomean([r[key] for r in rows]) if rows else None


def first_depth(entry):
    return int(entry["params"]["depth"].replace(" (auto)", "").split(",")[0])


add("## Discussion")
add("")
add("### Against the paper's 5.05% / 13.33% / 11.89%")
add("")
for category in ("weights", "K", "V"):
    rows = [r for r in summary if r["category"] == category]
    if not rows:
        continue
    same4 = geomean([dict(r["same"]).get(4) for r in rows])
    depths = [first_depth(r["qet"][1]) for r in rows if r["qet"][1]]
    ms = [r["qet"][0] for r in rows if r["qet"][1]]
    add(f"- **{category}** ({len(rows)} matrix/budget cells, geometric means): QET's MSE is "
        f"{pct(same4)} of the best baseline's at the same M = 4, "
        f"{pct(geomean([v for r in rows for _, v in r['same']]))} at the same M averaged over "
        f"every M, and **{pct(stat(category, 'qet/bb'))} best-vs-best** (paper: "
        f"{PAPER[category]:.2f}%). Best-vs-best QET used M = {', '.join(map(str, ms))} and "
        f"first-stage depth l = {', '.join(map(str, depths))}. The reference-default QET "
        f"(l = 3,0, split 0.7/0.3) reaches {pct(stat(category, 'qet-ref/bb'))} best-vs-best; "
        f"HERA (l searched) {pct(stat(category, 'hera/bb'))}.")
add("")
cats = [c for c in ("weights", "K", "V") if any(r["category"] == c for r in summary)]
bvb = [1 / stat(c, "qet/bb") for c in cats if stat(c, "qet/bb")]
at4 = [1 / g for g in (geomean([dict(r["same"]).get(4) for r in summary if r["category"] == c])
                       for c in cats) if g]
never_worse = all(r["qet/bb"] is not None and r["qet/bb"] <= 1 for r in summary)
if bvb and at4:
    add(f"So, best-vs-best, QET {'beats the best baseline in every cell' if never_worse else 'beats the best baseline in most cells'}"
        f" once its depth and split are searched, but by factors (category geometric means) of "
        f"{min(bvb):.1f}-{max(bvb):.1f} best-vs-best and {min(at4):.1f}-{max(at4):.1f} at M = 4, "
        f"where the paper's ratios are factors of 7.5-20. The reasons we can identify:")
add("")
add("- **The ratio depends strongly on M, and the paper does not state M.** At a small common M")
add("  PQ stores few, long sub-vectors and its float codebook (Ks·d·32 bits) caps Ks, so every")
add("  mechanism QET adds helps a lot; the same-M ratio is smallest at M = 4-16 and grows toward")
add("  100% at the largest M (see the per-M tables). Each scheme at its own best M, PQ moves to")
add("  sub-vectors of 2-4 values and most of the gap closes. Any headline ratio needs its M.")
add("- **OPQ and LOPQ cannot run on the weight matrices at ≤ 4 bpe** under this ledger: the d × d")
add("  fp32 rotation alone costs 32·d/n bpe (8 bpe for 1536 × 384, 32 bpe for 1024 × 1024, twice")
pq_best = sum(1 for r in summary if r["baseline"] and r["baseline"][1] == "pq")
add("  that for LOPQ with L = 2), so the weight baselines are PQ only; on 4096 × 128 the rotation")
add(f"  costs 1 bpe. The best baseline is PQ in {pq_best} of {len(summary)} cells.")
worse = [(r["name"], r["bpe"], m, v) for r in summary for m, v in r["same"] if v and v > 1]
if worse:
    add("- **At the largest M, QET is no better than PQ at the same M** ("
        + ", ".join(f"{n} B={b:g} M={m}: {pct(v)}" for n, b, m, v in worse)
        + "): its search space (two stages, 10-bit codebooks) does not contain plain PQ, and with")
    add("  sub-vectors of 2 values the second stage and the codebook quantization buy nothing.")
add("- **Synthetic data**: i.i.d. Student-t, Laplace and outlier-column matrices. Real weights and")
add("  KV caches have correlated, structured columns, which the paper's numbers come from; real")
add("  matrices will be added with the real-data issue.")
add("- **Budget granularity**: code widths jump at powers of two, so at a given budget a")
add("  configuration often cannot spend all its bits (several results sit at 3.5-3.9 bpe of 4);")
add("  the search partly compensates by choosing splits that land on good (Ks1, Ks2) pairs.")
add("")
add("### Does a better QET configuration close the gap to PQ at M = 32-64 on K/V-like data?")
add("")
kv = [r for r in summary if r["category"] in ("K", "V")]
if kv:
    ref_losses = [r for r in kv if r["qet-ref/bb"] and r["qet-ref/bb"] > 1]
    add(f"- **With the reference defaults, no**: QET (l = 3,0, split 0.7/0.3) at its best M is worse "
        f"than PQ at PQ's best M in {len(ref_losses)} of {len(kv)} K/V cells "
        f"(ratios {', '.join(pct(r['qet-ref/bb']) for r in kv)}), as the issue's measurement with the "
        f"original code found. At l = 3 the swap bits take 1.5 bpe of a 2-4 bpe budget before any "
        f"codebook or code bit, which leaves PQ-sized Ks only at small M.")
    wins = [r for r in kv if r["qet/bb"] and r["qet/bb"] < 1]
    add(f"- **With the depth and split searched, yes**: QET beats PQ's best in {len(wins)} of "
        f"{len(kv)} K/V cells (ratios {', '.join(pct(r['qet/bb']) for r in kv)}).")
if depth_rows:
    best_ls = [row[2][0] for row in depth_rows if row[2]]
    counts = {l: best_ls.count(l) for l in range(4)}
    add(f"- **The shallower the better at the best M**: in the depth table, the best first-stage depth "
        f"is l = 0 in {counts[0]}, l = 1 in {counts[1]}, l = 2 in {counts[2]} and l = 3 in "
        f"{counts[3]} of {len(best_ls)} cells. QET with l = 0 is a two-stage residual PQ with 10-bit "
        f"scalar-quantized codebooks: the gain over PQ comes from RQO (a second codebook on the "
        f"residual) and CQO (10-bit instead of 32-bit codebook entries, which makes a large Ks "
        f"affordable at M = 32), not from the swap tree.")
small, large = [], []
for r in summary:
    cell = data[(r["name"], r["bpe"])]
    for m, e in cell.get("qet", {}).items():
        if ok(e):
            (small if m <= 16 else large).append(first_depth(e))
if small and large:
    add(f"- **The swap tree pays at small M**: at M ≤ 16 (sub-vectors of ≥ 8 values) the search picks "
        f"l ≥ 2 in {sum(l >= 2 for l in small)} of {len(small)} runs, at M ≥ 32 in "
        f"{sum(l >= 2 for l in large)} of {len(large)}. Sorting pairs into minima and maxima makes "
        f"long sub-vectors more alike; short ones are already cheap to quantize and cannot afford "
        f"0.5 bpe per layer.")
splits = [r["qet"][1]["params"]["split"].replace(" (auto)", "") for r in summary if r["qet"][1]]
add(f"- **Splits**: the best-vs-best splits were {', '.join(splits)}: the reference's fixed 0.7/0.3")
add("  is rarely the best; with a shallow first stage an even split or a larger residual stage")
add("  usually wins.")
add("")
add("### Cost")
add("")
for r in summary:
    if r["category"] != "K" or r["bpe"] != max(budgets):
        continue
    cell = data[(r["name"], r["bpe"])]
    def total(key):
        return sum(e.get("seconds", 0) for e in cell.get(key, {}).values() if ok(e))
    add(f"Searching costs fits: on {r['name']} at B = {r['bpe']:g} the full QET search (M × l × split, "
        f"duplicates skipped) took {total('qet'):.0f} s against {total('pq'):.1f} s for PQ's M search "
        f"and {total('qet-ref'):.1f} s for the reference-default QET at every M (2 threads, shared "
        f"machine). One fixed QET configuration on 4096 × 128 at 4 bpe takes about 0.2-0.4 s "
        f"(bench/QetQuantizeBench.cpp).")
add("")

# ---------------------------------------------------------------- command / machine
def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
add("## Command")
add("")
build_arg = command.split()[-1] if command.split()[-1] != "bench/run_qet_table.sh" else "build"
add("```")
add(f"ninja -C {build_arg} qet-quantize")
add(command)
add("```")
add("")
add("Each cell comes from calls such as")
add("`qet-quantize --synthetic outlier-columns --shape 4096x128 --data-seed 1 --seed 123 --bpe 4 "
    "--subspaces 32 --scheme pq --compare opq,lopq,hera,qet --threads 2 --json`")
add("(plus `--scheme qet --depth 3,0 --split 0.7,0.3`, `--scheme hera --depth 3`, and for K/V")
add("`--scheme qet --depth L,0`). `qet-quantize --scheme qet` without `--subspaces` runs the same")
add("grid over M itself and reports the chosen M, depths, split and Ks.")
add("")
add("## Machine")
add("")
add(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; 2 threads used")
add(f"- Memory: {mem_gib:.0f} GiB; OS: {platform.platform()}")
add(f"- Load average (1/5/15 min) before: {load_before}; after: {load_after} (other jobs shared the machine; times are indicative)")
add(f"- Run: {run_date}; total wall time {int(elapsed) // 60} min {int(elapsed) % 60} s")
add("")

with open(out_path, "w") as f:
    f.write("\n".join(lines))
print(f"{len(summary)} matrix/budget cells", file=sys.stderr)
