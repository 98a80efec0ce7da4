#!/usr/bin/env python3
"""PyTorch on the shapes `univar bench` measures on a GPU, timed the same way, one JSON line per measurement.

    python3 bench/gpu/torch_bench.py [--json FILE.jsonl] [--gemm 4096x384x384,...] [--encoder 128x128]
                                     [--train 64x128] [--repeat 10] [--warmup 1.0]

- GEMM: C[m,n] = A[m,k] @ B[n,k]^T (univar's layout, a Linear weight) with torch.matmul into a preallocated C:
  fp32 with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False), fp32 with TF32 on, and bf16 tensors.
- Encoder: transformers.BertModel with random weights of all-MiniLM-L6-v2's config (vocabulary 30522, hidden 384,
  6 layers, 12 heads, intermediate 1536, 512 positions), eval mode, dropout off, random ids and a full mask, then
  mean pooling and L2 normalisation as univar's encoder bench does; fp32 eager (TF32 off), fp32 with TF32 on, and
  bf16 autocast; under torch.inference_mode().
- Training step: forward, mean pooling, L2 normalisation, symmetric InfoNCE at temperature 0.02 between rows i and
  B/2 + i (B/2 pairs of views), backward, gradient clipping at 1.0, AdamW (lr 1e-5, weight decay 0.01 except
  biases and LayerNorm), as `univar bench train` takes it; fp32 (TF32 off) and bf16 autocast.

Timing, as univar's Bench.measure: warm-up for --warmup seconds, then --repeat samples; each sample runs the job
as often as fills 50 ms (counted after the warm-up) and ends with torch.cuda.synchronize(); the median per run.

Without PyTorch, or without a CUDA device, it says so on stderr, writes one {"tool": "pytorch", "skipped": ...}
line and exits 0: the GPU check reports the step as skipped.
"""
import argparse
import json
import math
import sys
import time

SAMPLE_SECONDS = 0.05
DEVICE = "cuda"  # --device cpu only smoke-tests this script where no GPU is: its numbers mean nothing
MINILM = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
              intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12,
              hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
TEMPERATURE = 0.02


def shapes(text, n):
    """'4096x384x384,1024x1024x1024' -> [(4096, 384, 384), ...], each with n positive numbers."""
    out = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        dims = tuple(int(x) for x in item.lower().split("x"))
        if len(dims) != n or min(dims) < 1:
            raise SystemExit(f"torch_bench.py: bad shape '{item}': want {n} positive numbers joined by x")
        out.append(dims)
    return out


class Recorder:
    def __init__(self, path):
        self.path = path

    def __call__(self, record):
        line = json.dumps(record, sort_keys=False)
        print(line, flush=True)
        if self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")


def synchronize(torch):
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def measure(torch, job, repeat, warmup):
    """Median seconds per run of job(): warm-up, then `repeat` synchronised samples of >= 50 ms each."""
    end = time.perf_counter() + warmup
    while True:
        job()
        synchronize(torch)
        if time.perf_counter() >= end:
            break
    t = time.perf_counter()
    job()
    synchronize(torch)
    one = max(time.perf_counter() - t, 1e-7)
    runs = int(min(100_000, max(1, math.ceil(SAMPLE_SECONDS / one))))
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(runs):
            job()
        synchronize(torch)
        samples.append((time.perf_counter() - t) / runs)
    samples.sort()
    n = len(samples)
    median = samples[n // 2] if n % 2 else (samples[n // 2 - 1] + samples[n // 2]) / 2
    return median, samples[0], runs


def encoder_flops(batch, seq, c=MINILM):
    """The FLOP count univar's Bench.encoderFlops uses (GEMMs and attention)."""
    tokens, h, i = batch * seq, c["hidden_size"], c["intermediate_size"]
    per_layer = tokens * (2 * 4 * h * h + 2 * 2 * h * i) + batch * 2.0 * 2 * seq * seq * h
    return per_layer * c["num_hidden_layers"]


def set_tf32(torch, on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def bench_gemm(torch, record, dims, repeat, warmup):
    for (m, n, k) in dims:
        for variant in ("fp32", "tf32", "bf16"):
            set_tf32(torch, variant == "tf32")
            dtype = torch.bfloat16 if variant == "bf16" else torch.float32
            g = torch.Generator(device=DEVICE).manual_seed(1)
            a = (torch.rand(m, k, device=DEVICE, generator=g) * 2 - 1).to(dtype)
            b = (torch.rand(n, k, device=DEVICE, generator=g) * 2 - 1).to(dtype)
            c = torch.empty(m, n, device=DEVICE, dtype=dtype)
            bt = b.t()
            med, best, runs = measure(torch, lambda: torch.matmul(a, bt, out=c), repeat, warmup)
            record(dict(tool="pytorch", bench="gemm", variant=variant, m=m, n=n, k=k,
                        gflops=2.0 * m * n * k / med / 1e9, median_ms=med * 1e3, min_ms=best * 1e3,
                        runs_per_sample=runs, repeat=repeat))
            del a, b, c, bt
    set_tf32(torch, False)


def make_model(torch, transformers):
    config = transformers.BertConfig(**MINILM)
    torch.manual_seed(0)
    model = transformers.BertModel(config, add_pooling_layer=False).to(DEVICE)
    return model, getattr(model.config, "_attn_implementation", None) or "default"


def random_inputs(torch, batch, seq):
    g = torch.Generator(device=DEVICE).manual_seed(7)
    ids = torch.randint(1000, MINILM["vocab_size"], (batch, seq), device=DEVICE, generator=g)
    ids[:, 0], ids[:, -1] = 101, 102
    mask = torch.ones(batch, seq, dtype=torch.long, device=DEVICE)
    return ids, mask


def pooled(torch, model, ids, mask):
    """Mean pooling over the mask and L2 normalisation, as sentence-transformers and univar do."""
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(mean.float(), p=2, dim=1)


def bench_encoder(torch, transformers, record, dims, repeat, warmup):
    model, attn = make_model(torch, transformers)
    model.eval()
    for (batch, seq) in dims:
        ids, mask = random_inputs(torch, batch, seq)
        for variant in ("fp32", "tf32", "bf16-autocast"):
            set_tf32(torch, variant == "tf32")
            autocast = torch.autocast(DEVICE, dtype=torch.bfloat16, enabled=variant == "bf16-autocast")

            def job():
                with torch.inference_mode(), autocast:
                    pooled(torch, model, ids, mask)

            med, best, runs = measure(torch, job, repeat, warmup)
            record(dict(tool="pytorch", bench="encoder", variant=variant, batch=batch, seq=seq,
                        seq_per_s=batch / med, gflops=encoder_flops(batch, seq) / med / 1e9, median_ms=med * 1e3,
                        min_ms=best * 1e3, runs_per_sample=runs, repeat=repeat, attention=attn))
    set_tf32(torch, False)
    del model


def bench_train(torch, transformers, record, dims, repeat, warmup):
    for (batch, seq) in dims:
        if batch < 2 or batch % 2:
            raise SystemExit(f"torch_bench.py: a training batch is pairs of views: {batch} is not even")
        model, attn = make_model(torch, transformers)
        model.train()
        decay = [p for n, p in model.named_parameters() if not (n.endswith(".bias") or "LayerNorm" in n)]
        no_decay = [p for n, p in model.named_parameters() if n.endswith(".bias") or "LayerNorm" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-5, betas=(0.9, 0.999), eps=1e-8)
        ids, mask = random_inputs(torch, batch, seq)
        pairs = batch // 2
        target = torch.arange(pairs, device=DEVICE)
        for variant in ("fp32", "bf16-autocast"):
            set_tf32(torch, False)
            autocast = torch.autocast(DEVICE, dtype=torch.bfloat16, enabled=variant == "bf16-autocast")

            def step():
                opt.zero_grad(set_to_none=True)
                with autocast:
                    e = pooled(torch, model, ids, mask)
                logits = e[:pairs] @ e[pairs:].t() / TEMPERATURE
                loss = (torch.nn.functional.cross_entropy(logits, target)
                        + torch.nn.functional.cross_entropy(logits.t(), target)) / 2
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()

            med, best, runs = measure(torch, step, repeat, warmup)
            record(dict(tool="pytorch", bench="train", variant=variant, batch=batch, seq=seq,
                        seq_per_s=batch / med, gflops=3 * encoder_flops(batch, seq) / med / 1e9,
                        median_ms=med * 1e3, min_ms=best * 1e3, runs_per_sample=runs, repeat=repeat, attention=attn))
        del model, opt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="append the JSON lines to this file too")
    ap.add_argument("--gemm", default="4096x384x384,4096x1536x384,4096x384x1536,1024x1024x1024", help="m x n x k, comma-separated")
    ap.add_argument("--encoder", default="128x128", help="batch x tokens, comma-separated")
    ap.add_argument("--train", default="64x128", help="batch (views, even) x tokens, comma-separated")
    ap.add_argument("--repeat", type=int, default=10, help="timed samples (default 10)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per configuration (default 1)")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                    help="cpu only smoke-tests this script where no GPU is (its numbers mean nothing)")
    args = ap.parse_args()
    global DEVICE
    DEVICE = args.device
    record = Recorder(args.json)
    gemm, enc, train = shapes(args.gemm, 3), shapes(args.encoder, 2), shapes(args.train, 2)

    try:
        import torch
    except ImportError as e:
        print(f"torch_bench.py: PyTorch is not installed here ({e}): skipped", file=sys.stderr)
        record(dict(tool="pytorch", skipped="PyTorch is not installed"))
        return 0
    if DEVICE == "cuda" and not torch.cuda.is_available():
        print(f"torch_bench.py: PyTorch {torch.__version__} sees no CUDA device: skipped", file=sys.stderr)
        record(dict(tool="pytorch", skipped=f"PyTorch {torch.__version__} sees no CUDA device"))
        return 0
    try:
        import transformers
    except ImportError as e:
        transformers = None
        print(f"torch_bench.py: transformers is not installed ({e}): encoder and training step skipped", file=sys.stderr)

    env = dict(torch=torch.__version__, cuda=torch.version.cuda, transformers=getattr(transformers, "__version__", None))
    if DEVICE == "cuda":
        props = torch.cuda.get_device_properties(0)
        env.update(gpu=props.name, sms=props.multi_processor_count, memory_gib=round(props.total_memory / 2**30, 1))
    else:
        env.update(gpu="none (cpu smoke test)")
    record(dict(tool="pytorch", env=env))
    failures = 0
    for name, run in (("gemm", lambda: bench_gemm(torch, record, gemm, args.repeat, args.warmup)),
                      ("encoder", lambda: transformers and bench_encoder(torch, transformers, record, enc, args.repeat, args.warmup)),
                      ("train", lambda: transformers and bench_train(torch, transformers, record, train, args.repeat, args.warmup))):
        try:
            run()
        except Exception as e:  # one failed part must not cost the others their numbers
            failures += 1
            print(f"torch_bench.py: {name} failed: {type(e).__name__}: {e}", file=sys.stderr)
            record(dict(tool="pytorch", bench=name, failed=f"{type(e).__name__}: {e}"))
        finally:
            if DEVICE == "cuda":
                torch.cuda.empty_cache()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
