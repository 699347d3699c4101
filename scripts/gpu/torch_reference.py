#!/usr/bin/env python3
"""PyTorch eager reference for checks (b) and (d) of docs/gpu.md, run on the device in the same call as our apps.

1. The card's matmul rate: torch.matmul of two random 8192x8192 matrices, and the yardstick `glance bench blocks`
   uses (linear of [4096, 3072] activations by a [3072, 3072] weight), each in the dtypes asked for.
2. FLUX.1-dev-shaped double- and single-stream blocks at full width (hidden 3072, 24 heads of 128, MLP ratio 4,
   random weights) in PyTorch eager with F.scaled_dot_product_attention, on the token counts of a square image
   (1024x1024: 4096 image tokens) plus 512 text tokens, per batch size: median ms per block, TFLOP/s counted as
   `glance bench blocks` counts them (matmul FLOPs only: FluxBlockFlops), and the share of the matmul rate.

Written from the published architecture (BFL's FLUX.1 description, docs REFERENCE section 3), not from our C#.
Times are CUDA-event medians after warm-up; every block of a kind is timed on the same inputs, outputs not chained.

    torch_reference.py [--sizes 1024] [--batch 1,2,4,8] [--text-tokens 512] [--dtype bfloat16]
                       [--double-blocks 2] [--single-blocks 2] [--warmup 3] [--iterations 10] [--json OUT.json]
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HIDDEN, HEADS, HEAD_DIM, MLP = 3072, 24, 128, 4 * 3072
AXES = (16, 56, 56)
THETA = 10000.0
DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def timed_ms(device, fn, warmup, iterations):
    """Median milliseconds of fn() over `iterations` runs after `warmup` untimed ones (CUDA events on a GPU)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def matmul_rates(device, dtype, warmup, iterations, square):
    """TFLOP/s of a square matmul (the card's rate) and of the bench's yardstick linear."""
    a = torch.randn(square, square, device=device, dtype=dtype)
    b = torch.randn(square, square, device=device, dtype=dtype)
    ms = timed_ms(device, lambda: torch.matmul(a, b), warmup, iterations)
    square_rate = 2 * square ** 3 / (ms * 1e9)
    x = torch.randn(4096, HIDDEN, device=device, dtype=dtype)
    w = torch.randn(HIDDEN, HIDDEN, device=device, dtype=dtype)
    ms_linear = timed_ms(device, lambda: F.linear(x, w), warmup, iterations)
    linear_rate = 2 * 4096 * HIDDEN * HIDDEN / (ms_linear * 1e9)
    del a, b, x, w
    return square_rate, linear_rate


# --- FLOPs, counted as FluxBlockFlops does: 2 * tokens * in * out per linear, 4 * heads * L^2 * head_dim for attention.
def linear_flops(tokens, n_in, n_out):
    return 2 * tokens * n_in * n_out


def attention_flops(length):
    return 4 * HEADS * length * length * HEAD_DIM


def double_block_flops(batch, img, txt):
    def stream(tokens):
        return (linear_flops(1, HIDDEN, 6 * HIDDEN) + linear_flops(tokens, HIDDEN, 3 * HIDDEN)
                + linear_flops(tokens, HIDDEN, HIDDEN) + linear_flops(tokens, HIDDEN, MLP) + linear_flops(tokens, MLP, HIDDEN))
    return batch * (stream(img) + stream(txt) + attention_flops(img + txt))


def single_block_flops(batch, img, txt):
    length = img + txt
    return batch * (linear_flops(1, HIDDEN, 3 * HIDDEN) + linear_flops(length, HIDDEN, 3 * HIDDEN + MLP)
                    + attention_flops(length) + linear_flops(length, HIDDEN + MLP, HIDDEN))


# --- The blocks --------------------------------------------------------------------------------------------------
def rope_tables(text_tokens, side, device):
    """cos and sin [L, HEAD_DIM / 2] in float32 for positions (0, 0, 0) per text token and (0, row, col) per patch."""
    rows = torch.arange(side, device=device, dtype=torch.float64).repeat_interleave(side)
    cols = torch.arange(side, device=device, dtype=torch.float64).repeat(side)
    zeros_img = torch.zeros(side * side, device=device, dtype=torch.float64)
    positions = torch.cat([torch.zeros(text_tokens, 3, device=device, dtype=torch.float64),
                           torch.stack([zeros_img, rows, cols], dim=1)])
    angles = []
    for axis, dim in enumerate(AXES):
        omega = THETA ** (-torch.arange(0, dim, 2, device=device, dtype=torch.float64) / dim)
        angles.append(positions[:, axis:axis + 1] * omega)
    angle = torch.cat(angles, dim=1)  # [L, HEAD_DIM / 2]
    return torch.cos(angle).float(), torch.sin(angle).float()


def rotate(x, cos, sin):
    """Rotates adjacent pairs (x0, x1) -> (c x0 - s x1, s x0 + c x1) in float32; x is [B, heads, L, HEAD_DIM]."""
    pairs = x.float().unflatten(-1, (-1, 2))
    x0, x1 = pairs[..., 0], pairs[..., 1]
    out = torch.stack([cos * x0 - sin * x1, sin * x0 + cos * x1], dim=-1)
    return out.flatten(-2).to(x.dtype)


def rms_norm(x, scale):
    """RMSNorm over the head dimension in float32 with a learnable scale, eps 1e-6, back in x's dtype."""
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6) * scale.float()).to(x.dtype)


def modulate(x, shift, scale):
    return F.layer_norm(x, (HIDDEN,), eps=1e-6) * (1 + scale[:, None]) + shift[:, None]


def heads(x):
    """[B, L, HIDDEN] -> [B, HEADS, L, HEAD_DIM]."""
    return x.unflatten(-1, (HEADS, HEAD_DIM)).transpose(1, 2)


def weight(n_out, n_in, device, dtype):
    return torch.randn(n_out, n_in, device=device, dtype=dtype) * n_in ** -0.5


def bias(n, device, dtype):
    return torch.randn(n, device=device, dtype=dtype) * 0.02


class DoubleBlock:
    """Image and text streams with their own weights, joint attention over [text, image]."""

    def __init__(self, device, dtype):
        self.streams = []
        for _ in range(2):
            self.streams.append({
                "mod_w": weight(6 * HIDDEN, HIDDEN, device, dtype), "mod_b": bias(6 * HIDDEN, device, dtype),
                "qkv_w": weight(3 * HIDDEN, HIDDEN, device, dtype), "qkv_b": bias(3 * HIDDEN, device, dtype),
                "q_scale": torch.ones(HEAD_DIM, device=device, dtype=dtype),
                "k_scale": torch.ones(HEAD_DIM, device=device, dtype=dtype),
                "proj_w": weight(HIDDEN, HIDDEN, device, dtype), "proj_b": bias(HIDDEN, device, dtype),
                "mlp0_w": weight(MLP, HIDDEN, device, dtype), "mlp0_b": bias(MLP, device, dtype),
                "mlp2_w": weight(HIDDEN, MLP, device, dtype), "mlp2_b": bias(HIDDEN, device, dtype),
            })

    def __call__(self, img, txt, vec, cos, sin):
        silu_vec = F.silu(vec)
        prepared = []
        for x, p in ((txt, self.streams[1]), (img, self.streams[0])):
            mod = F.linear(silu_vec, p["mod_w"], p["mod_b"]).chunk(6, dim=-1)
            qkv = F.linear(modulate(x, mod[0], mod[1]), p["qkv_w"], p["qkv_b"])
            q, k, v = (heads(t) for t in qkv.chunk(3, dim=-1))
            prepared.append((rms_norm(q, p["q_scale"]), rms_norm(k, p["k_scale"]), v, mod))
        q = rotate(torch.cat([prepared[0][0], prepared[1][0]], dim=2), cos, sin)
        k = rotate(torch.cat([prepared[0][1], prepared[1][1]], dim=2), cos, sin)
        v = torch.cat([prepared[0][2], prepared[1][2]], dim=2)
        attn = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        txt_attn, img_attn = attn[:, :txt.shape[1]], attn[:, txt.shape[1]:]
        outputs = []
        for x, a, p, mod in ((txt, txt_attn, self.streams[1], prepared[0][3]), (img, img_attn, self.streams[0], prepared[1][3])):
            x = x + mod[2][:, None] * F.linear(a, p["proj_w"], p["proj_b"])
            hidden = F.gelu(F.linear(modulate(x, mod[3], mod[4]), p["mlp0_w"], p["mlp0_b"]), approximate="tanh")
            outputs.append(x + mod[5][:, None] * F.linear(hidden, p["mlp2_w"], p["mlp2_b"]))
        return outputs[1], outputs[0]


class SingleBlock:
    """One stream over [text, image]: fused q, k, v and MLP input; fused output of attention and MLP."""

    def __init__(self, device, dtype):
        self.mod_w, self.mod_b = weight(3 * HIDDEN, HIDDEN, device, dtype), bias(3 * HIDDEN, device, dtype)
        self.lin1_w, self.lin1_b = weight(3 * HIDDEN + MLP, HIDDEN, device, dtype), bias(3 * HIDDEN + MLP, device, dtype)
        self.lin2_w, self.lin2_b = weight(HIDDEN, HIDDEN + MLP, device, dtype), bias(HIDDEN, device, dtype)
        self.q_scale = torch.ones(HEAD_DIM, device=device, dtype=dtype)
        self.k_scale = torch.ones(HEAD_DIM, device=device, dtype=dtype)

    def __call__(self, x, vec, cos, sin):
        shift, scale, gate = F.linear(F.silu(vec), self.mod_w, self.mod_b).chunk(3, dim=-1)
        fused = F.linear(modulate(x, shift, scale), self.lin1_w, self.lin1_b)
        qkv, mlp = fused.split([3 * HIDDEN, MLP], dim=-1)
        q, k, v = (heads(t) for t in qkv.chunk(3, dim=-1))
        q = rotate(rms_norm(q, self.q_scale), cos, sin)
        k = rotate(rms_norm(k, self.k_scale), cos, sin)
        attn = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        out = F.linear(torch.cat([attn, F.gelu(mlp, approximate="tanh")], dim=-1), self.lin2_w, self.lin2_b)
        return x + gate[:, None] * out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024")
    parser.add_argument("--batch", default="1,2,4,8")
    parser.add_argument("--text-tokens", type=int, default=512)
    parser.add_argument("--dtype", default="bfloat16", help="comma-separated: bfloat16, float16, float32")
    parser.add_argument("--double-blocks", type=int, default=2)
    parser.add_argument("--single-blocks", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--matmul-size", type=int, default=8192)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--json", help="also write every figure here")
    args = parser.parse_args()

    device = torch.device(args.device)
    facts = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": str(device)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts.update(name=props.name, capability=list(torch.cuda.get_device_capability(device)),
                     multiprocessors=props.multi_processor_count, memory_gib=round(props.total_memory / 2 ** 30, 1),
                     cudnn=torch.backends.cudnn.version(), flash_sdp=torch.backends.cuda.flash_sdp_enabled())
    print("torch reference:", json.dumps(facts))
    result = {"facts": facts, "matmul": {}, "blocks": []}
    sizes = [int(s) for s in args.sizes.split(",")]
    batches = [int(b) for b in args.batch.split(",")]

    with torch.inference_mode():
        for name in args.dtype.split(","):
            dtype = DTYPES[name]
            square, linear = matmul_rates(device, dtype, args.warmup, args.iterations, args.matmul_size)
            result["matmul"][name] = {"square": args.matmul_size, "square_tflops": square, "yardstick_tflops": linear}
            print(f"matmul {name}: {args.matmul_size}^3 {square:.1f} TFLOP/s; "
                  f"[4096 x {HIDDEN}] x [{HIDDEN} x {HIDDEN}]^T {linear:.1f} TFLOP/s (median of {args.iterations})")

        print()
        print(f"PyTorch eager FLUX.1-dev-width blocks ({args.double_blocks} double + {args.single_blocks} single, random weights, "
              f"SDPA), {args.text_tokens} text tokens, {args.warmup} warm-up + {args.iterations} timed, medians")
        print("| size | batch | dtype | img + txt tokens | double ms | double TFLOP/s | double % of matmul | single ms | single TFLOP/s | single % of matmul | peak GB |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in args.dtype.split(","):
            dtype = DTYPES[name]
            peak = result["matmul"][name]["square_tflops"]
            doubles = [DoubleBlock(device, dtype) for _ in range(args.double_blocks)]
            singles = [SingleBlock(device, dtype) for _ in range(args.single_blocks)]
            for size in sizes:
                side = size // 16
                img_tokens = side * side
                cos, sin = rope_tables(args.text_tokens, side, device)
                for batch in batches:
                    if device.type == "cuda":
                        torch.cuda.reset_peak_memory_stats(device)
                    img = torch.randn(batch, img_tokens, HIDDEN, device=device, dtype=dtype)
                    txt = torch.randn(batch, args.text_tokens, HIDDEN, device=device, dtype=dtype)
                    joint = torch.cat([txt, img], dim=1)
                    vec = torch.randn(batch, HIDDEN, device=device, dtype=dtype)
                    double_ms = statistics.median(
                        [timed_ms(device, lambda b=b: b(img, txt, vec, cos, sin), args.warmup, args.iterations) for b in doubles]
                    ) if doubles else float("nan")
                    single_ms = statistics.median(
                        [timed_ms(device, lambda b=b: b(joint, vec, cos, sin), args.warmup, args.iterations) for b in singles]
                    ) if singles else float("nan")
                    d_flops = double_block_flops(batch, img_tokens, args.text_tokens)
                    s_flops = single_block_flops(batch, img_tokens, args.text_tokens)
                    d_rate, s_rate = d_flops / (double_ms * 1e9), s_flops / (single_ms * 1e9)
                    # The blocks' weights and this row's activations, as `glance bench blocks` reports its own.
                    peak_gb = torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else None
                    print(f"| {size} | {batch} | {name} | {img_tokens} + {args.text_tokens} | {double_ms:.3f} | {d_rate:.1f} | "
                          f"{100 * d_rate / peak:.0f}% | {single_ms:.3f} | {s_rate:.1f} | {100 * s_rate / peak:.0f}% | "
                          f"{'-' if peak_gb is None else f'{peak_gb:.2f}'} |")
                    result["blocks"].append({"size": size, "batch": batch, "dtype": name, "image_tokens": img_tokens,
                                             "text_tokens": args.text_tokens, "double_ms": double_ms, "single_ms": single_ms,
                                             "double_gflop": d_flops / 1e9, "single_gflop": s_flops / 1e9, "peak_gb": peak_gb})
                    del img, txt, joint, vec
            del doubles, singles
            if device.type == "cuda":
                torch.cuda.empty_cache()
    print("% of matmul: of the square matmul's rate in the same dtype, measured above in the same process")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
