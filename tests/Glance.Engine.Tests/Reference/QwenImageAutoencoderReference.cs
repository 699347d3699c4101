using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent float64 forward of diffusers' AutoencoderKLQwenImage (models/autoencoders/autoencoder_kl_qwenimage.py)
/// with plain loops, on the real frame axis: tensors are videos [C, T, H, W], the causal 3-D convolutions run their
/// whole [out, in, t, kh, kw] kernels over the frame stack after padding 2 * (temporal padding) zero frames in front
/// (QwenImageCausalConv3d._padding), so the single-frame behaviour is computed, not assumed. It reproduces what
/// diffusers does on the FIRST chunk of _encode / _decode, which is all an image ever sees: the feature cache is
/// empty, so each causal conv sees zeros before the chunk, upsample3d marks its cache "Rep" and skips time_conv, and
/// downsample3d only stores the frame and skips time_conv. Weights are read by the checkpoint's key names; sizes come
/// from the weights and the block sequence from which keys exist. The pipelines' latent normalisation
/// (pipeline_qwenimage.py decode, pipeline_qwenimage_img2img.py _encode_vae_image) is included. No engine code is used.
/// </summary>
internal sealed class QwenImageAutoencoderReference
{
    const double NormEpsilon = 1e-12; // F.normalize's default

    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;

    public QwenImageAutoencoderReference(IReadOnlyDictionary<string, Tensor> checkpointWeights)
    {
        _weights = checkpointWeights.ToDictionary(
            w => w.Key,
            w => (w.Value.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray(), w.Value.shape),
            StringComparer.Ordinal);
    }

    /// <summary>A channel-major video: channel c, frame t, row y, column x at V[((c * T + t) * H + y) * W + x].</summary>
    public sealed record Frames(int C, int T, int H, int W, double[] V)
    {
        public double At(int c, int t, int y, int x) => V[(((c * T) + t) * H + y) * W + x];

        public static Frames Zeros(int c, int t, int h, int w) => new(c, t, h, w, new double[c * t * h * w]);
    }

    /// <summary>
    /// The text-to-image pipeline's decode: latents / (1 / latents_std) + latents_mean per channel, vae.decode (which
    /// clamps to [-1, 1]); the frame axis stays (T = 1).
    /// </summary>
    public Frames DecodeNormalised(Frames latents, double[] latentsMean, double[] latentsStd)
    {
        var z = Map(latents, (c, v) => (v / (1 / latentsStd[c])) + latentsMean[c]);
        return Decode(z);
    }

    /// <summary>The img2img pipeline's encode with the posterior's mode: (mean - latents_mean) * (1 / latents_std).</summary>
    public Frames EncodeNormalised(Frames images, double[] latentsMean, double[] latentsStd)
    {
        var mean = EncodeMean(images);
        return Map(mean, (c, v) => (v - latentsMean[c]) * (1 / latentsStd[c]));
    }

    /// <summary>_decode's first chunk: post_quant_conv, QwenImageDecoder3d.forward, then the clamp to [-1, 1].</summary>
    public Frames Decode(Frames z)
    {
        var x = CausalConv3d(z, "post_quant_conv", padding: (0, 0, 0));
        var h = CausalConv3d(x, "decoder.conv_in", padding: (1, 1, 1));
        h = MidBlock(h, "decoder.mid_block");
        for (int i = 0; HasPrefix($"decoder.up_blocks.{i}."); i++)
        {
            for (int j = 0; HasPrefix($"decoder.up_blocks.{i}.resnets.{j}."); j++) h = ResidualBlock(h, $"decoder.up_blocks.{i}.resnets.{j}");
            if (HasPrefix($"decoder.up_blocks.{i}.upsamplers.0.")) h = Upsample(h, $"decoder.up_blocks.{i}.upsamplers.0");
        }
        h = Silu(RmsNorm(h, "decoder.norm_out"));
        h = CausalConv3d(h, "decoder.conv_out", padding: (1, 1, 1));
        return Map(h, (_, v) => Math.Clamp(v, -1.0, 1.0));
    }

    /// <summary>_encode's first chunk: QwenImageEncoder3d.forward, quant_conv, and the DiagonalGaussianDistribution mean (first half of the channels).</summary>
    public Frames EncodeMean(Frames image)
    {
        var h = CausalConv3d(image, "encoder.conv_in", padding: (1, 1, 1));
        for (int k = 0; HasPrefix($"encoder.down_blocks.{k}."); k++)
        {
            string prefix = $"encoder.down_blocks.{k}";
            // The flat list holds residual blocks, attention blocks and resamples; the keys say which.
            if (Has($"{prefix}.conv1.weight")) h = ResidualBlock(h, prefix);
            else if (Has($"{prefix}.to_qkv.weight")) h = AttentionBlock(h, prefix);
            else h = Downsample(h, prefix);
        }
        h = MidBlock(h, "encoder.mid_block");
        h = Silu(RmsNorm(h, "encoder.norm_out"));
        h = CausalConv3d(h, "encoder.conv_out", padding: (1, 1, 1));
        var moments = CausalConv3d(h, "quant_conv", padding: (0, 0, 0));
        int half = moments.C / 2;
        return moments with { C = half, V = moments.V[..(half * moments.T * moments.H * moments.W)] };
    }

    bool Has(string key) => _weights.ContainsKey(key);

    bool HasPrefix(string prefix) => _weights.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal));

    (double[] Values, long[] Shape) Weight(string key) =>
        _weights.TryGetValue(key, out var w) ? w : throw new KeyNotFoundException($"Reference weights lack '{key}'.");

    Frames MidBlock(Frames x, string prefix)
    {
        var h = ResidualBlock(x, $"{prefix}.resnets.0");
        h = AttentionBlock(h, $"{prefix}.attentions.0");
        return ResidualBlock(h, $"{prefix}.resnets.1");
    }

    /// <summary>QwenImageResidualBlock: h = shortcut(x); conv2(silu(norm2(conv1(silu(norm1(x)))))) + h.</summary>
    Frames ResidualBlock(Frames x, string prefix)
    {
        var shortcut = Has($"{prefix}.conv_shortcut.weight") ? CausalConv3d(x, $"{prefix}.conv_shortcut", padding: (0, 0, 0)) : x;
        var h = CausalConv3d(Silu(RmsNorm(x, $"{prefix}.norm1")), $"{prefix}.conv1", padding: (1, 1, 1));
        h = CausalConv3d(Silu(RmsNorm(h, $"{prefix}.norm2")), $"{prefix}.conv2", padding: (1, 1, 1));
        var sum = new double[h.V.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = h.V[i] + shortcut.V[i];
        return h with { V = sum };
    }

    /// <summary>
    /// QwenImageAttentionBlock, frame by frame: RMS norm, to_qkv (1x1) whose 3C outputs are q, k, v in that order,
    /// one head: softmax(q . k / sqrt(C)) over the frame's pixels, weighted v, proj (1x1), plus the input.
    /// </summary>
    Frames AttentionBlock(Frames x, string prefix)
    {
        int c = x.C, n = x.H * x.W;
        var normed = RmsNorm(x, $"{prefix}.norm");
        var (wqkv, _) = Weight($"{prefix}.to_qkv.weight");
        var (bqkv, _) = Weight($"{prefix}.to_qkv.bias");
        var (wp, _) = Weight($"{prefix}.proj.weight");
        var (bp, _) = Weight($"{prefix}.proj.bias");
        var result = (double[])x.V.Clone();
        double scale = 1 / Math.Sqrt(c);
        for (int t = 0; t < x.T; t++)
        {
            // qkv[p][o] for output channel o in [0, 3C).
            var qkv = new double[n][];
            for (int p = 0; p < n; p++)
            {
                qkv[p] = new double[3 * c];
                for (int o = 0; o < 3 * c; o++)
                {
                    double sum = bqkv[o];
                    for (int i = 0; i < c; i++) sum += wqkv[o * c + i] * normed.At(i, t, p / x.W, p % x.W);
                    qkv[p][o] = sum;
                }
            }
            for (int p = 0; p < n; p++)
            {
                var scores = new double[n];
                for (int r = 0; r < n; r++)
                {
                    double dot = 0;
                    for (int ch = 0; ch < c; ch++) dot += qkv[p][ch] * qkv[r][c + ch];
                    scores[r] = dot * scale;
                }
                double max = scores.Max(), total = 0;
                for (int r = 0; r < n; r++) total += scores[r] = Math.Exp(scores[r] - max);
                var mixed = new double[c];
                for (int r = 0; r < n; r++)
                {
                    for (int ch = 0; ch < c; ch++) mixed[ch] += scores[r] / total * qkv[r][2 * c + ch];
                }
                for (int o = 0; o < c; o++)
                {
                    double sum = bp[o];
                    for (int i = 0; i < c; i++) sum += wp[o * c + i] * mixed[i];
                    result[((o * x.T + t) * x.H + p / x.W) * x.W + p % x.W] += sum;
                }
            }
        }
        return x with { V = result };
    }

    /// <summary>
    /// upsample2d / upsample3d on the first chunk: a time_conv, if any, is skipped (the cache entry is None, so it is
    /// set to "Rep"); then per frame nearest-exact x2 and resample.1, a 3x3 conv with padding 1.
    /// </summary>
    Frames Upsample(Frames x, string prefix)
    {
        int h = x.H * 2, w = x.W * 2;
        var up = Frames.Zeros(x.C, x.T, h, w);
        for (int c = 0; c < x.C; c++)
        {
            for (int t = 0; t < x.T; t++)
            {
                for (int oy = 0; oy < h; oy++)
                {
                    // nearest-exact: source index floor((destination + 0.5) * input / output).
                    int sy = (int)Math.Floor((oy + 0.5) * x.H / h);
                    for (int ox = 0; ox < w; ox++)
                    {
                        int sx = (int)Math.Floor((ox + 0.5) * x.W / w);
                        up.V[((c * x.T + t) * h + oy) * w + ox] = x.At(c, t, sy, sx);
                    }
                }
            }
        }
        return Conv2dPerFrame(up, $"{prefix}.resample.1", stride: 1, padBefore: 1, padAfter: 1);
    }

    /// <summary>
    /// downsample2d / downsample3d on the first chunk: per frame ZeroPad2d((0, 1, 0, 1)) and resample.1, a 3x3 conv of
    /// stride 2; a time_conv, if any, is skipped (the first chunk only fills its cache entry).
    /// </summary>
    Frames Downsample(Frames x, string prefix) => Conv2dPerFrame(x, $"{prefix}.resample.1", stride: 2, padBefore: 0, padAfter: 1);

    /// <summary>
    /// QwenImageCausalConv3d without a cache: F.pad(x, (pw, pw, ph, ph, 2 * pt, 0)), then Conv3d with stride 1 and no
    /// padding over the whole [out, in, kt, kh, kw] kernel.
    /// </summary>
    Frames CausalConv3d(Frames x, string prefix, (int T, int H, int W) padding)
    {
        var (w, shape) = Weight($"{prefix}.weight");
        var (b, _) = Weight($"{prefix}.bias");
        int outputs = (int)shape[0], inputs = (int)shape[1], kt = (int)shape[2], kh = (int)shape[3], kw = (int)shape[4];
        if (inputs != x.C) throw new InvalidOperationException($"'{prefix}' expects {inputs} channels; got {x.C}.");
        int front = 2 * padding.T;
        int outT = x.T + front - kt + 1, outH = x.H + 2 * padding.H - kh + 1, outW = x.W + 2 * padding.W - kw + 1;
        var y = Frames.Zeros(outputs, outT, outH, outW);
        for (int o = 0; o < outputs; o++)
        {
            for (int ot = 0; ot < outT; ot++)
            {
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double sum = b[o];
                        for (int i = 0; i < inputs; i++)
                        {
                            for (int dt = 0; dt < kt; dt++)
                            {
                                int it = ot + dt - front; // padded frame ot + dt; the first `front` of them are zeros
                                if (it < 0) continue;
                                for (int dy = 0; dy < kh; dy++)
                                {
                                    int iy = oy + dy - padding.H;
                                    if (iy < 0 || iy >= x.H) continue;
                                    for (int dx = 0; dx < kw; dx++)
                                    {
                                        int ix = ox + dx - padding.W;
                                        if (ix < 0 || ix >= x.W) continue;
                                        sum += w[(((o * inputs + i) * kt + dt) * kh + dy) * kw + dx] * x.At(i, it, iy, ix);
                                    }
                                }
                            }
                        }
                        y.V[((o * outT + ot) * outH + oy) * outW + ox] = sum;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>nn.Conv2d [O, I, k, k] on every frame, with a stride and zero padding before (top, left) and after (bottom, right).</summary>
    Frames Conv2dPerFrame(Frames x, string prefix, int stride, int padBefore, int padAfter)
    {
        var (w, shape) = Weight($"{prefix}.weight");
        var (b, _) = Weight($"{prefix}.bias");
        int outputs = (int)shape[0], inputs = (int)shape[1], k = (int)shape[2];
        if (inputs != x.C) throw new InvalidOperationException($"'{prefix}' expects {inputs} channels; got {x.C}.");
        int outH = (x.H + padBefore + padAfter - k) / stride + 1, outW = (x.W + padBefore + padAfter - k) / stride + 1;
        var y = Frames.Zeros(outputs, x.T, outH, outW);
        for (int o = 0; o < outputs; o++)
        {
            for (int t = 0; t < x.T; t++)
            {
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double sum = b[o];
                        for (int i = 0; i < inputs; i++)
                        {
                            for (int dy = 0; dy < k; dy++)
                            {
                                int iy = oy * stride + dy - padBefore;
                                if (iy < 0 || iy >= x.H) continue;
                                for (int dx = 0; dx < k; dx++)
                                {
                                    int ix = ox * stride + dx - padBefore;
                                    if (ix < 0 || ix >= x.W) continue;
                                    sum += w[((o * inputs + i) * k + dy) * k + dx] * x.At(i, t, iy, ix);
                                }
                            }
                        }
                        y.V[((o * x.T + t) * outH + oy) * outW + ox] = sum;
                    }
                }
            }
        }
        return y;
    }

    /// <summary>QwenImageRMS_norm: at each frame and pixel, x / max(||x|| over channels, 1e-12) * sqrt(C) * gamma[c].</summary>
    Frames RmsNorm(Frames x, string prefix)
    {
        var (gamma, _) = Weight($"{prefix}.gamma");
        int positions = x.T * x.H * x.W;
        var y = new double[x.V.Length];
        double scale = Math.Sqrt(x.C);
        for (int p = 0; p < positions; p++)
        {
            double squares = 0;
            for (int c = 0; c < x.C; c++) squares += x.V[c * positions + p] * x.V[c * positions + p];
            double denominator = Math.Max(Math.Sqrt(squares), NormEpsilon);
            for (int c = 0; c < x.C; c++) y[c * positions + p] = x.V[c * positions + p] / denominator * scale * gamma[c];
        }
        return x with { V = y };
    }

    static Frames Silu(Frames x) => x with { V = [.. x.V.Select(v => v / (1 + Math.Exp(-v)))] };

    /// <summary>Applies f(channel, value) to every element.</summary>
    static Frames Map(Frames x, Func<int, double, double> f)
    {
        int perChannel = x.T * x.H * x.W;
        var y = new double[x.V.Length];
        for (int i = 0; i < y.Length; i++) y[i] = f(i / perChannel, x.V[i]);
        return x with { V = y };
    }
}
