#!/usr/bin/env python3
"""Turns the measurements of bench/gpu-check.sh into a Markdown table, univar against PyTorch, and the acceptance
lines of issue 7, each met / NOT MET / not measured. Standard library only.

    python3 bench/gpu/summarize.py RESULTS.jsonl --tests STATUS [--tests-detail TEXT] [--header TEXT ...]

RESULTS.jsonl holds `univar bench --json` records ("tool": "univar") and bench/gpu/torch_bench.py's ("tool":
"pytorch"). --tests is the CUDA tests' outcome: passed, failed, skipped or not-run; --test-numbers a file of the
lines they printed, quoted at the end. Prints the Markdown; exits 0
when every acceptance line is met, 1 otherwise (a line that could not be measured is not met).
"""
import argparse
import json
import sys

GEMM_SHARE = 0.90  # SGEMM and GemmEx through univar's binding: >= 90% of the same cuBLAS call from PyTorch


def load(path):
    records = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    print(f"summarize.py: {path}:{n}: not JSON ({e}); ignored", file=sys.stderr)
    except FileNotFoundError:
        pass
    return records


def find(records, tool, bench, key, **match):
    """The last record of tool/bench whose fields match, and its `key` value (None when absent)."""
    for r in reversed(records):
        if r.get("tool") == tool and r.get("bench") == bench and key in r and all(r.get(k) == v for k, v in match.items()):
            return r[key]
    return None


def fmt(x, unit=""):
    return "—" if x is None else f"{x:,.1f}{unit}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--tests", default="not-run", choices=("passed", "failed", "skipped", "not-run"))
    ap.add_argument("--tests-detail", default="")
    ap.add_argument("--test-numbers", help="a file of the lines the CUDA tests printed (CUDA check ..., CUDA timing ...)")
    ap.add_argument("--header", action="append", default=[], help="a line for the top of the summary (repeatable)")
    args = ap.parse_args()
    rs = load(args.results)

    out = ["## GPU check", ""]
    out += [f"- {h}" for h in args.header]
    skipped = [r["skipped"] for r in rs if r.get("tool") == "pytorch" and "skipped" in r]
    failed = [f"{r.get('bench')}: {r['failed']}" for r in rs if "failed" in r]
    env = next((r["env"] for r in rs if r.get("tool") == "pytorch" and "env" in r), None)
    if env:
        out.append("- PyTorch " + ", ".join(f"{k} {v}" for k, v in env.items() if v is not None))
    out += [f"- PyTorch skipped: {s}" for s in skipped] + [f"- failed: {f}" for f in failed]
    out.append("")

    # GEMM: univar (cuda, each precision) against torch.matmul with the same precision; the CPU for reference.
    gemm_shapes = []
    for r in rs:
        if r.get("bench") == "gemm" and "m" in r:
            s = (r["m"], r["n"], r["k"])
            if s not in gemm_shapes:
                gemm_shapes.append(s)
    rows = ["| what | shape | univar cpu | univar cuda | PyTorch | univar / PyTorch |", "| --- | --- | --- | --- | --- | --- |"]
    gemm_ratios = {p: [] for p in ("fp32", "tf32", "bf16")}
    for (m, n, k) in gemm_shapes:
        cpu = find(rs, "univar", "gemm", "gflops", device="cpu", m=m, n=n, k=k)
        for p in ("fp32", "tf32", "bf16"):
            u = find(rs, "univar", "gemm", "gflops", device="cuda", precision=p, m=m, n=n, k=k)
            t = find(rs, "pytorch", "gemm", "gflops", variant=p, m=m, n=n, k=k)
            q = ratio(u, t)
            gemm_ratios[p].append(q)
            label = {"fp32": "SGEMM fp32 (TF32 off)", "tf32": "GemmEx TF32", "bf16": "GemmEx bf16"}[p]
            rows.append(f"| {label}, GFLOP/s | {m}×{n}×{k} | {fmt(cpu) if p == 'fp32' else ''} | {fmt(u)} | {fmt(t)} | {fmt_ratio(q)} |")

    # Encoder and training step: univar's precision against PyTorch's variant.
    enc_pairs = [("fp32", "fp32", "fp32 vs eager fp32"), ("tf32", "tf32", "TF32 vs eager TF32"),
                 ("tf32", "bf16-autocast", "TF32 vs bf16 autocast"), ("bf16", "bf16-autocast", "bf16 vs bf16 autocast")]
    enc_shapes = sorted({(r["batch"], r["seq"]) for r in rs if r.get("bench") == "encoder" and "batch" in r})
    train_shapes = sorted({(r["batch"], r["seq"]) for r in rs if r.get("bench") == "train" and "batch" in r})
    enc = {}
    for (b, t) in enc_shapes:
        cpu = find(rs, "univar", "encoder", "seq_per_s", device="cpu", batch=b, seq=t)
        for up, tp, label in enc_pairs:
            u = find(rs, "univar", "encoder", "seq_per_s", device="cuda", precision=up, batch=b, seq=t)
            v = find(rs, "pytorch", "encoder", "seq_per_s", variant=tp, batch=b, seq=t)
            enc[(b, t, up, tp)] = ratio(u, v)
            rows.append(f"| encoder {label}, seq/s | {b}×{t} | {fmt(cpu) if up == 'fp32' else ''} | {fmt(u)} | {fmt(v)} | {fmt_ratio(ratio(u, v))} |")
    train = {}
    for (b, t) in train_shapes:
        cpu = find(rs, "univar", "train", "seq_per_s", device="cpu", batch=b, seq=t)
        for up, tp, label in (("fp32", "fp32", "fp32 vs eager fp32"), ("bf16", "bf16-autocast", "bf16 vs bf16 autocast"),
                              ("tf32", "bf16-autocast", "TF32 vs bf16 autocast")):
            u = find(rs, "univar", "train", "seq_per_s", device="cuda", precision=up, batch=b, seq=t)
            v = find(rs, "pytorch", "train", "seq_per_s", variant=tp, batch=b, seq=t)
            train[(b, t, up)] = ratio(u, v)
            rows.append(f"| training step {label}, seq/s | {b}×{t} | {fmt(cpu) if up == 'fp32' else ''} | {fmt(u)} | {fmt(v)} | {fmt_ratio(ratio(u, v))} |")
    out += rows + [""]

    # Acceptance.
    def judge(values, threshold):
        values = list(values)
        if not values or any(v is None for v in values):
            return "not measured", None
        worst = min(values)
        return ("met" if worst >= threshold else "NOT MET"), worst

    lines = []
    tests = {"passed": "met", "failed": "NOT MET"}.get(args.tests, "not measured")
    lines.append((f"CUDA vs CPU: forward max abs difference ≤ 1e-4 in fp32, cosine ≥ 0.999 TF32/BF16, gradients within 1e-3 "
                  f"(the CUDA tests: {args.tests}{', ' + args.tests_detail if args.tests_detail else ''})", tests, None))
    e128 = [(b, t) for (b, t) in enc_shapes if (b, t) == (128, 128)] or enc_shapes[:1]
    for (b, t) in e128 or [(128, 128)]:
        st, w = judge([enc.get((b, t, "fp32", "fp32"))], 1.0)
        lines.append((f"encoder {b}×{t} fp32 ≥ 1.0× PyTorch eager fp32", st, w))
        best = [x for x in (enc.get((b, t, "bf16", "bf16-autocast")), enc.get((b, t, "tf32", "bf16-autocast"))) if x is not None]
        st, w = judge([max(best)] if best else [], 1.0)
        lines.append((f"encoder {b}×{t} bf16/TF32 ≥ 1.0× PyTorch bf16 autocast (the faster of univar's two)", st, w))
    for (b, t) in train_shapes or [("?", "?")]:
        st, w = judge([train.get((b, t, "fp32"))], 1.0)
        lines.append((f"training step {b}×{t} fp32 ≥ 1.0× PyTorch eager fp32", st, w))
    for p, label in (("fp32", "SGEMM (fp32, TF32 off)"), ("tf32", "GemmEx TF32"), ("bf16", "GemmEx bf16")):
        st, w = judge(gemm_ratios[p], GEMM_SHARE)
        lines.append((f"{label} ≥ 90% of PyTorch's cuBLAS call on every shape (worst shape)", st, w))

    out += ["| acceptance | status | worst ratio |", "| --- | --- | --- |"]
    out += [f"| {text} | {'**' + st + '**' if st != 'met' else st} | {fmt_ratio(w)} |" for text, st, w in lines]
    held = all(st == "met" for _, st, _ in lines)
    out += ["", f"All acceptance lines met: {'yes' if held else 'no'}."]
    numbers = []
    if args.test_numbers:
        try:
            with open(args.test_numbers, encoding="utf-8") as f:
                numbers = [line.rstrip("\n") for line in f if line.strip()]
        except FileNotFoundError:
            pass
    if numbers:
        out += ["", "What the CUDA tests printed (CUDA against the CPU):", "", "```"] + numbers + ["```"]
    print("\n".join(out))
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
