#!/usr/bin/env python3
"""Figures of checks (b) and (d) of docs/gpu.md from the outputs the device call wrote.

    blocks_figures.py BENCH_BLOCKS.txt [TORCH_REFERENCE.json]

BENCH_BLOCKS.txt is what `glance bench blocks` printed: its "matmul ..." line (our own yardstick, TorchSharp) and its
Markdown rows "| size | batch | dtype | img + txt tokens | double ms | double GFLOP | double GFLOP/s | double % of matmul |
single ... |", with a last "device peak GB" cell where our run could read the allocator's counters. TORCH_REFERENCE.json is what scripts/gpu/torch_reference.py --json wrote in the same call: the card's
square-matmul rate per dtype and PyTorch eager times of the same blocks.

Prints, per block kind, one Markdown row per size, batch and dtype: our ms per block (from the GFLOP and GFLOP/s
columns where they keep more digits than the ms column, as on a GPU, where a block takes a few ms), TFLOP/s, the share of the card's matmul rate (torch.matmul
in the same call) and of our own yardstick, then PyTorch eager's ms, TFLOP/s and share, and our time over eager's; then
both runs' peak device memory for that row (the blocks' weights and the row's activations), where each measured it.
"""
import json
import re
import sys

ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\w+)\s*\|\s*(\d+)\s*\+\s*(\d+)\s*\|(.*)\|\s*$")


def parse_bench(text):
    """{(size, batch, dtype): {"double": (ms, gflop, gflops), "single": (...)}} and {dtype: yardstick GFLOP/s}."""
    yardstick = {}
    for line in text.splitlines():
        if line.startswith("matmul "):
            for dtype, rate in re.findall(r"(\w+) ([0-9.]+) GFLOP/s", line):
                yardstick[dtype] = float(rate)
    rows = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if not match:
            continue
        size, batch, dtype = int(match.group(1)), int(match.group(2)), match.group(3)
        cells = [c.strip() for c in match.group(6).split("|")]
        if len(cells) not in (8, 9):
            raise ValueError(f"expected 8 cells after the token counts (9 with the device peak), found {len(cells)}: {line}")

        def kind(offset):
            if cells[offset] == "-":
                return None
            return float(cells[offset]), float(cells[offset + 1]), float(cells[offset + 2])

        peak = float(cells[8]) if len(cells) == 9 and cells[8] != "-" else None
        rows[(size, batch, dtype)] = {"double": kind(0), "single": kind(4), "peak_gb": peak}
    if not rows:
        raise ValueError("no result rows in the `glance bench blocks` output")
    return rows, yardstick


def fmt(value, digits=1, suffix=""):
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        rows, yardstick = parse_bench(f.read())
    torch_ref = {"matmul": {}, "blocks": []}
    if len(argv) == 3:
        with open(argv[2]) as f:
            torch_ref = json.load(f)
    eager = {(b["size"], b["batch"], b["dtype"]): b for b in torch_ref["blocks"]}
    for dtype, m in torch_ref["matmul"].items():
        print(f"card matmul rate ({dtype}, torch.matmul {m['square']}^3, same call): {m['square_tflops']:.1f} TFLOP/s; "
              f"PyTorch on our yardstick shape: {m['yardstick_tflops']:.1f} TFLOP/s")
    for dtype, rate in yardstick.items():
        print(f"our yardstick ({dtype}, TorchSharp linear [4096 x 3072] x [3072 x 3072]^T): {rate / 1000:.1f} TFLOP/s")
    for kind in ("double", "single"):
        print()
        print(f"{kind}-stream block")
        print()
        print("| size | batch | dtype | ours ms | ours TFLOP/s | ours % of card matmul | ours % of our yardstick "
              "| eager ms | eager TFLOP/s | eager % of card matmul | ours / eager time | ours peak GB | eager peak GB |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for (size, batch, dtype), kinds in sorted(rows.items(), key=lambda item: (item[0][2], item[0][0], item[0][1])):
            ours = kinds[kind]
            if ours is None:
                continue
            printed_ms, gflop, gflops = ours
            # Each column is rounded to 0.1: take the time from whichever columns lose the least to that rounding.
            derived = gflops > 0 and 0.05 / gflop + 0.05 / gflops < 0.05 / printed_ms if gflop > 0 else False
            ms = 1000 * gflop / gflops if derived else printed_ms
            tflops = gflops / 1000
            peak = torch_ref["matmul"].get(dtype, {}).get("square_tflops")
            own = yardstick.get(dtype)
            ref = eager.get((size, batch, dtype))
            ref_ms = ref[f"{kind}_ms"] if ref else None
            ref_tflops = ref[f"{kind}_gflop"] / ref_ms if ref else None  # GFLOP / ms = TFLOP/s
            print(f"| {size} | {batch} | {dtype} | {ms:.3f} | {tflops:.1f} | "
                  f"{fmt(100 * tflops / peak if peak else None, 0, '%')} | {fmt(100 * gflops / own if own else None, 0, '%')} | "
                  f"{fmt(ref_ms, 3)} | {fmt(ref_tflops)} | {fmt(100 * ref_tflops / peak if ref and peak else None, 0, '%')} | "
                  f"{fmt(ms / ref_ms if ref_ms else None, 2, 'x')} | {fmt(kinds['peak_gb'], 2)} | "
                  f"{fmt(ref.get('peak_gb') if ref else None, 2)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
