using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent KL-autoencoder forward in float64 with plain loops, written from diffusers' AutoencoderKL
/// (models/autoencoders/vae.py Encoder and Decoder, unets/unet_2d_blocks.py DownEncoderBlock2D / UpDecoderBlock2D /
/// UNetMidBlock2D, resnet.py ResnetBlock2D, downsampling.py / upsampling.py, attention_processor.py Attention with
/// one head) and reading weights by diffusers' key names and shapes (attention projections are Linear [C, C]).
/// Sizes come from the weights; block and resnet counts from which keys exist. It shares no code with the engine.
/// </summary>
internal sealed class AutoencoderReference
{
    const int Groups = 32;
    const double Epsilon = 1e-6;

    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;

    public AutoencoderReference(IReadOnlyDictionary<string, Tensor> diffusersWeights)
    {
        _weights = diffusersWeights.ToDictionary(
            w => w.Key,
            w => (w.Value.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray(), w.Value.shape),
            StringComparer.Ordinal);
    }

    /// <summary>Channel-major planes: value of channel c at row y, column x is V[(c * H + y) * W + x].</summary>
    public sealed record Planes(int C, int H, int W, double[] V)
    {
        public double At(int c, int y, int x) => V[((c * H) + y) * W + x];
    }

    /// <summary>Decoder.forward: unscaled latent planes to image planes.</summary>
    public Planes Decode(Planes z)
    {
        var h = Conv(z, "decoder.conv_in", stride: 1, padBefore: 1, padAfter: 1);
        h = MidBlock(h, "decoder.mid_block");
        // up_blocks run in index order, from the deepest level to the image resolution.
        for (int i = 0; Has($"decoder.up_blocks.{i}.resnets.0.conv1.weight"); i++)
        {
            for (int j = 0; Has($"decoder.up_blocks.{i}.resnets.{j}.conv1.weight"); j++) h = Resnet(h, $"decoder.up_blocks.{i}.resnets.{j}");
            if (Has($"decoder.up_blocks.{i}.upsamplers.0.conv.weight"))
                h = Conv(NearestTimesTwo(h), $"decoder.up_blocks.{i}.upsamplers.0.conv", stride: 1, padBefore: 1, padAfter: 1);
        }
        h = Swish(GroupNorm(h, "decoder.conv_norm_out"));
        return Conv(h, "decoder.conv_out", stride: 1, padBefore: 1, padAfter: 1);
    }

    /// <summary>Encoder.forward, then the posterior mean: the first half of the output channels.</summary>
    public Planes EncodeMean(Planes image)
    {
        var h = Conv(image, "encoder.conv_in", stride: 1, padBefore: 1, padAfter: 1);
        for (int i = 0; Has($"encoder.down_blocks.{i}.resnets.0.conv1.weight"); i++)
        {
            for (int j = 0; Has($"encoder.down_blocks.{i}.resnets.{j}.conv1.weight"); j++) h = Resnet(h, $"encoder.down_blocks.{i}.resnets.{j}");
            // Downsample2D with padding 0: zero-pad one column right and one row below, then a stride-2 3x3 conv.
            if (Has($"encoder.down_blocks.{i}.downsamplers.0.conv.weight"))
                h = Conv(h, $"encoder.down_blocks.{i}.downsamplers.0.conv", stride: 2, padBefore: 0, padAfter: 1);
        }
        h = MidBlock(h, "encoder.mid_block");
        h = Swish(GroupNorm(h, "encoder.conv_norm_out"));
        var moments = Conv(h, "encoder.conv_out", stride: 1, padBefore: 1, padAfter: 1);
        int half = moments.C / 2;
        return new Planes(half, moments.H, moments.W, moments.V[..(half * moments.H * moments.W)]);
    }

    bool Has(string key) => _weights.ContainsKey(key);

    (double[] Values, long[] Shape) Weight(string key) =>
        _weights.TryGetValue(key, out var w) ? w : throw new KeyNotFoundException($"Reference weights lack '{key}'.");

    Planes MidBlock(Planes x, string prefix)
    {
        var h = Resnet(x, $"{prefix}.resnets.0");
        h = Attention(h, $"{prefix}.attentions.0");
        return Resnet(h, $"{prefix}.resnets.1");
    }

    /// <summary>ResnetBlock2D without a time embedding: shortcut(x) + conv2(swish(norm2(conv1(swish(norm1(x)))))).</summary>
    Planes Resnet(Planes x, string prefix)
    {
        var h = Conv(Swish(GroupNorm(x, $"{prefix}.norm1")), $"{prefix}.conv1", stride: 1, padBefore: 1, padAfter: 1);
        h = Conv(Swish(GroupNorm(h, $"{prefix}.norm2")), $"{prefix}.conv2", stride: 1, padBefore: 1, padAfter: 1);
        var shortcut = Has($"{prefix}.conv_shortcut.weight") ? Conv(x, $"{prefix}.conv_shortcut", stride: 1, padBefore: 0, padAfter: 0) : x;
        var sum = new double[h.V.Length];
        for (int i = 0; i < sum.Length; i++) sum[i] = shortcut.V[i] + h.V[i];
        return h with { V = sum };
    }

    /// <summary>
    /// Attention with one head of all C channels over the H*W pixels: group norm, Linear q/k/v on each pixel's channel
    /// vector, softmax(q k^T / sqrt(C)) v, Linear out, plus the un-normalised input.
    /// </summary>
    Planes Attention(Planes x, string prefix)
    {
        int c = x.C, n = x.H * x.W;
        var normed = GroupNorm(x, $"{prefix}.group_norm");
        var tokens = new double[n][];
        for (int p = 0; p < n; p++)
        {
            tokens[p] = new double[c];
            for (int ch = 0; ch < c; ch++) tokens[p][ch] = normed.V[ch * n + p];
        }
        var q = tokens.Select(t => Linear(t, $"{prefix}.to_q")).ToArray();
        var k = tokens.Select(t => Linear(t, $"{prefix}.to_k")).ToArray();
        var v = tokens.Select(t => Linear(t, $"{prefix}.to_v")).ToArray();
        double scale = 1 / Math.Sqrt(c);
        var result = (double[])x.V.Clone();
        for (int p = 0; p < n; p++)
        {
            var scores = new double[n];
            for (int r = 0; r < n; r++)
            {
                double dot = 0;
                for (int ch = 0; ch < c; ch++) dot += q[p][ch] * k[r][ch];
                scores[r] = dot * scale;
            }
            double max = scores.Max();
            double total = 0;
            for (int r = 0; r < n; r++) total += scores[r] = Math.Exp(scores[r] - max);
            var mixed = new double[c];
            for (int r = 0; r < n; r++)
            {
                for (int ch = 0; ch < c; ch++) mixed[ch] += scores[r] / total * v[r][ch];
            }
            var projected = Linear(mixed, $"{prefix}.to_out.0");
            for (int ch = 0; ch < c; ch++) result[ch * n + p] += projected[ch];
        }
        return x with { V = result };
    }

    double[] Linear(double[] input, string prefix)
    {
        var (w, shape) = Weight($"{prefix}.weight");
        var (b, _) = Weight($"{prefix}.bias");
        int outputs = (int)shape[0], inputs = (int)shape[1];
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = b[o];
            for (int i = 0; i < inputs; i++) sum += w[o * inputs + i] * input[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>nn.Conv2d with weight [O, I, k, k], a stride, and zero padding before (top, left) and after (bottom, right).</summary>
    Planes Conv(Planes x, string prefix, int stride, int padBefore, int padAfter)
    {
        var (w, shape) = Weight($"{prefix}.weight");
        var (b, _) = Weight($"{prefix}.bias");
        int outputs = (int)shape[0], inputs = (int)shape[1], kernel = (int)shape[2];
        if (inputs != x.C) throw new InvalidOperationException($"'{prefix}' expects {inputs} channels; got {x.C}.");
        int outH = (x.H + padBefore + padAfter - kernel) / stride + 1;
        int outW = (x.W + padBefore + padAfter - kernel) / stride + 1;
        var y = new double[outputs * outH * outW];
        for (int o = 0; o < outputs; o++)
        {
            for (int oy = 0; oy < outH; oy++)
            {
                for (int ox = 0; ox < outW; ox++)
                {
                    double sum = b[o];
                    for (int i = 0; i < inputs; i++)
                    {
                        for (int ky = 0; ky < kernel; ky++)
                        {
                            int iy = oy * stride + ky - padBefore;
                            if (iy < 0 || iy >= x.H) continue;
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int ix = ox * stride + kx - padBefore;
                                if (ix < 0 || ix >= x.W) continue;
                                sum += w[((o * inputs + i) * kernel + ky) * kernel + kx] * x.At(i, iy, ix);
                            }
                        }
                    }
                    y[(o * outH + oy) * outW + ox] = sum;
                }
            }
        }
        return new Planes(outputs, outH, outW, y);
    }

    /// <summary>GroupNorm with 32 groups: each group's channels and pixels normalised by their mean and biased variance, then the per-channel affine.</summary>
    Planes GroupNorm(Planes x, string prefix)
    {
        var (gamma, _) = Weight($"{prefix}.weight");
        var (beta, _) = Weight($"{prefix}.bias");
        int perGroup = x.C / Groups, plane = x.H * x.W;
        var y = new double[x.V.Length];
        for (int g = 0; g < Groups; g++)
        {
            int start = g * perGroup * plane, count = perGroup * plane;
            double mean = 0;
            for (int i = 0; i < count; i++) mean += x.V[start + i];
            mean /= count;
            double variance = 0;
            for (int i = 0; i < count; i++) variance += (x.V[start + i] - mean) * (x.V[start + i] - mean);
            variance /= count;
            double inverse = 1 / Math.Sqrt(variance + Epsilon);
            for (int i = 0; i < count; i++)
            {
                int channel = (start + i) / plane;
                y[start + i] = (x.V[start + i] - mean) * inverse * gamma[channel] + beta[channel];
            }
        }
        return x with { V = y };
    }

    static Planes Swish(Planes x) => x with { V = [.. x.V.Select(v => v / (1 + Math.Exp(-v)))] };

    static Planes NearestTimesTwo(Planes x)
    {
        int h = x.H * 2, w = x.W * 2;
        var y = new double[x.C * h * w];
        for (int c = 0; c < x.C; c++)
        {
            for (int oy = 0; oy < h; oy++)
            {
                for (int ox = 0; ox < w; ox++) y[(c * h + oy) * w + ox] = x.At(c, oy / 2, ox / 2);
            }
        }
        return new Planes(x.C, h, w, y);
    }
}
