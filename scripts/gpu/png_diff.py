#!/usr/bin/env python3
"""Mean and largest pixel difference between PNG images of the same size, for check (a) of docs/gpu.md.

    png_diff.py REFERENCE.png OTHER.png [OTHER.png ...]

Prints one Markdown row per OTHER: mean |difference| over every pixel and channel on the 0-255 scale, the largest
difference, the share of channel values that differ at all, and the PSNR in dB. The decoder is written here on zlib
alone (8-bit greyscale, RGB, grey+alpha and RGBA, non-interlaced: what ImageSharp writes for `glance generate`), so
the script runs on any Python 3 without numpy or Pillow, here and on the device alike.
"""
import math
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel (8-bit depth only)


def read_png(path):
    """Returns (width, height, channels, rows) with rows a list of bytes objects, one per scanline, unfiltered."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file (signature {data[:8]!r})")
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace != 0:
        raise ValueError(f"{path}: bit depth {depth}, colour type {colour}, interlace {interlace}; "
                         "expected 8-bit greyscale/RGB/RGBA, not interlaced")
    channels = CHANNELS[colour]
    stride = width * channels
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: {len(raw)} bytes of image data; expected {height * (stride + 1)}")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        method, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        unfilter(line, previous, method, channels, path)
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def unfilter(line, previous, method, bpp, path):
    """Undoes one scanline's filter in place (PNG specification, section 9)."""
    if method == 0:
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if method == 1:
            predictor = left
        elif method == 2:
            predictor = up
        elif method == 3:
            predictor = (left + up) // 2
        elif method == 4:
            upper_left = previous[i - bpp] if i >= bpp else 0
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
        else:
            raise ValueError(f"{path}: unknown filter method {method}")
        line[i] = (line[i] + predictor) & 0xFF


def compare(reference, other):
    """(mean |d|, max |d|, share of values that differ, PSNR dB) over the colour channels both images share."""
    w1, h1, c1, rows1 = reference
    w2, h2, c2, rows2 = other
    if (w1, h1) != (w2, h2):
        raise ValueError(f"sizes differ: {w1}x{h1} against {w2}x{h2}")
    colours = min(c1, c2, 3) if min(c1, c2) >= 3 else 1
    total = largest = differing = squared = 0
    count = 0
    for r1, r2 in zip(rows1, rows2):
        for x in range(w1):
            for c in range(colours):
                d = abs(r1[x * c1 + c] - r2[x * c2 + c])
                total += d
                squared += d * d
                differing += d != 0
                largest = max(largest, d)
                count += 1
    mse = squared / count
    psnr = math.inf if mse == 0 else 10 * math.log10(255 * 255 / mse)
    return total / count, largest, differing / count, psnr


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    reference = read_png(argv[1])
    print("| image | against | mean abs diff (0-255) | max abs diff | values differing | PSNR dB |")
    print("|---|---|---:|---:|---:|---:|")
    for path in argv[2:]:
        mean, largest, share, psnr = compare(reference, read_png(path))
        print(f"| {path.rsplit('/', 1)[-1]} | {argv[1].rsplit('/', 1)[-1]} | {mean:.3f} | {largest} | {100 * share:.1f}% | "
              + ("inf" if math.isinf(psnr) else f"{psnr:.1f}") + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
