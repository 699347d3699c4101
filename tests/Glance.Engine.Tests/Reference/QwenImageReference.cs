using System.Numerics;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent Qwen-Image transformer forward in float64 with plain loops over arrays, written from diffusers'
/// QwenImageTransformer2DModel (models/transformers/transformer_qwenimage.py with the Attention, FeedForward, RMSNorm,
/// AdaLayerNormContinuous and Timesteps classes it uses) and reading weights by diffusers' checkpoint keys. It shares
/// no code with the engine: RoPE positions are taken from the positive / negative index tables the way QwenEmbedRope
/// slices them, and rotations are complex products.
/// </summary>
internal sealed class QwenImageReference
{
    const double Epsilon = 1e-6;
    const int RopeTableLength = 4096; // QwenEmbedRope's precomputed index range

    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;
    readonly int _heads;
    readonly int _headDim;
    readonly int[] _axes;
    readonly double _theta;

    public QwenImageReference(IReadOnlyDictionary<string, Tensor> stateDict, int heads, int headDim, int[] axesDimsRope, double theta = 10_000)
    {
        _weights = stateDict.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray(), kv.Value.shape),
            StringComparer.Ordinal);
        _heads = heads;
        _headDim = headDim;
        _axes = axesDimsRope;
        _theta = theta;
    }

    int Inner => _heads * _headDim;

    /// <summary>
    /// One sample: packed latents img [h * w][in], text features txt [T][joint], mask (true = token; null = all),
    /// sigma, and the packed grid (h, w). Returns [h * w][out * patch^2].
    /// </summary>
    public double[][] Forward(double[][] img, double[][] txt, bool[]? mask, double sigma, int h, int w)
    {
        var hidden = Linear(img, "img_in");
        var temb = Linear([Silu(Linear([TimestepSinusoid(sigma)], "time_text_embed.timestep_embedder.linear_1")[0])], "time_text_embed.timestep_embedder.linear_2")[0];
        var context = Linear(txt.Select(r => RmsNorm(r, Values("txt_norm.weight"))).ToArray(), "txt_in");
        var keyMask = (mask ?? Enumerable.Repeat(true, txt.Length).ToArray()).Concat(Enumerable.Repeat(true, img.Length)).ToArray();
        var positions = TextPositions(txt.Length, h, w).Concat(ImagePositions(h, w)).ToArray();

        for (int b = 0; Has($"transformer_blocks.{b}.img_mod.1.weight"); b++)
            (hidden, context) = Block($"transformer_blocks.{b}.", hidden, context, temb, keyMask, positions);

        // AdaLayerNormContinuous: emb = linear(silu(temb)); scale, shift = chunk(emb, 2).
        var emb = Linear([Silu(temb)], "norm_out.linear")[0];
        var scale = emb[..Inner];
        var shift = emb[Inner..];
        return Linear(hidden.Select(r => Modulate(r, shift, scale)).ToArray(), "proj_out");
    }

    (double[][] Img, double[][] Txt) Block(string p, double[][] img, double[][] txt, double[] temb, bool[] keyMask, int[][] positions)
    {
        // img_mod / txt_mod: Sequential(SiLU, Linear) -> [B, 6 dim]; chunk(2) into mod1, mod2; each chunk(3) into shift, scale, gate.
        var imgMod = Chunks(Linear([Silu(temb)], p + "img_mod.1")[0], 6);
        var txtMod = Chunks(Linear([Silu(temb)], p + "txt_mod.1")[0], 6);
        var imgIn = img.Select(r => Modulate(r, imgMod[0], imgMod[1])).ToArray();
        var txtIn = txt.Select(r => Modulate(r, txtMod[0], txtMod[1])).ToArray();

        var q = Join(PerHead(Linear(txtIn, p + "attn.add_q_proj"), p + "attn.norm_added_q"), PerHead(Linear(imgIn, p + "attn.to_q"), p + "attn.norm_q"));
        var k = Join(PerHead(Linear(txtIn, p + "attn.add_k_proj"), p + "attn.norm_added_k"), PerHead(Linear(imgIn, p + "attn.to_k"), p + "attn.norm_k"));
        var v = Join(PerHead(Linear(txtIn, p + "attn.add_v_proj"), null), PerHead(Linear(imgIn, p + "attn.to_v"), null));
        var joint = Attention(q, k, v, keyMask, positions);
        var txtAttn = Linear(joint.Take(txt.Length).ToArray(), p + "attn.to_add_out");
        var imgAttn = Linear(joint.Skip(txt.Length).ToArray(), p + "attn.to_out.0");

        double[][] Stream(double[][] x, double[][] attn, double[][] mod, string mlp)
        {
            var afterAttention = x.Select((r, i) => r.Select((e, j) => e + mod[2][j] * attn[i][j]).ToArray()).ToArray();
            var modulated = afterAttention.Select(r => Modulate(r, mod[3], mod[4])).ToArray();
            var hidden = Linear(modulated, mlp + ".net.0.proj").Select(r => r.Select(GeluTanh).ToArray()).ToArray();
            var output = Linear(hidden, mlp + ".net.2");
            return afterAttention.Select((r, i) => r.Select((e, j) => e + mod[5][j] * output[i][j]).ToArray()).ToArray();
        }

        return (Stream(img, imgAttn, imgMod, p + "img_mlp"), Stream(txt, txtAttn, txtMod, p + "txt_mlp"));
    }

    /// <summary>[token][inner] -> [head][token][headDim], each head vector RMS-normalised with the given weight when named.</summary>
    double[][][] PerHead(double[][] x, string? norm)
    {
        var result = new double[_heads][][];
        for (int head = 0; head < _heads; head++)
        {
            result[head] = x.Select(row =>
            {
                var part = row.Skip(head * _headDim).Take(_headDim).ToArray();
                return norm is null ? part : RmsNorm(part, Values(norm + ".weight"));
            }).ToArray();
        }
        return result;
    }

    static double[][][] Join(double[][][] text, double[][][] image) => text.Select((head, h) => head.Concat(image[h]).ToArray()).ToArray();

    /// <summary>RoPE on q and k, then per head softmax(q k / sqrt(d)) over the keys the mask lets in, times v; heads concatenated.</summary>
    double[][] Attention(double[][][] q, double[][][] k, double[][][] v, bool[] keyMask, int[][] positions)
    {
        int tokens = positions.Length;
        var output = Enumerable.Range(0, tokens).Select(_ => new double[Inner]).ToArray();
        for (int head = 0; head < _heads; head++)
        {
            var qr = q[head].Select((t, i) => Rotate(t, positions[i])).ToArray();
            var kr = k[head].Select((t, i) => Rotate(t, positions[i])).ToArray();
            for (int i = 0; i < tokens; i++)
            {
                var logits = new double[tokens];
                double max = double.NegativeInfinity;
                for (int j = 0; j < tokens; j++)
                {
                    if (!keyMask[j]) continue;
                    double s = 0;
                    for (int e = 0; e < _headDim; e++) s += qr[i][e] * kr[j][e];
                    logits[j] = s / Math.Sqrt(_headDim);
                    max = Math.Max(max, logits[j]);
                }
                double total = 0;
                var weights = new double[tokens];
                for (int j = 0; j < tokens; j++)
                {
                    if (!keyMask[j]) continue;
                    weights[j] = Math.Exp(logits[j] - max);
                    total += weights[j];
                }
                for (int j = 0; j < tokens; j++)
                {
                    if (!keyMask[j]) continue;
                    for (int e = 0; e < _headDim; e++) output[i][head * _headDim + e] += weights[j] / total * v[head][j][e];
                }
            }
        }
        return output;
    }

    /// <summary>
    /// Feature pairs (2m, 2m + 1) read as complex numbers and multiplied by exp(i * position * theta^(-2k / d_axis)),
    /// axis by axis (frame, row, column) over consecutive pair ranges, as rope_params and apply_rotary_emb_qwen.
    /// </summary>
    double[] Rotate(double[] x, int[] position)
    {
        var result = new double[x.Length];
        int pair = 0;
        for (int axis = 0; axis < 3; axis++)
        {
            int d = _axes[axis];
            for (int k = 0; k < d / 2; k++, pair++)
            {
                double frequency = 1.0 / Math.Pow(_theta, 2.0 * k / d);
                var turned = new Complex(x[2 * pair], x[2 * pair + 1]) * Complex.FromPolarCoordinates(1, position[axis] * frequency);
                result[2 * pair] = turned.Real;
                result[2 * pair + 1] = turned.Imaginary;
            }
        }
        return result;
    }

    /// <summary>
    /// Image tokens row-major over (h, w), frame index 0. With scale_rope the row table is the last h - h // 2 entries
    /// of the negative table (-4096 .. -1) followed by the first h // 2 of the positive one (0 .. 4095); columns alike.
    /// </summary>
    static IEnumerable<int[]> ImagePositions(int h, int w)
    {
        int[] negative = Enumerable.Range(0, RopeTableLength).Select(i => i - RopeTableLength).ToArray();
        int[] positive = Enumerable.Range(0, RopeTableLength).ToArray();
        int[] Table(int n) => negative[^(n - n / 2)..].Concat(positive[..(n / 2)]).ToArray();
        int[] rows = Table(h), columns = Table(w);
        foreach (int row in rows)
        {
            foreach (int column in columns) yield return [0, row, column];
        }
    }

    /// <summary>Text token j: entry max(h // 2, w // 2) + j of the positive table, on all three axes.</summary>
    static IEnumerable<int[]> TextPositions(int tokens, int h, int w)
    {
        int start = Math.Max(h / 2, w / 2);
        return Enumerable.Range(start, tokens).Select(i => new[] { i, i, i });
    }

    /// <summary>
    /// Timesteps(256, flip_sin_to_cos=True, downscale_freq_shift=0, scale=1000): arguments sigma * exp(-ln(10000) k / 128)
    /// * 1000, laid out [sin, cos] and then flipped to [cos, sin].
    /// </summary>
    static double[] TimestepSinusoid(double sigma)
    {
        const int half = 128;
        var sin = new double[half];
        var cos = new double[half];
        for (int k = 0; k < half; k++)
        {
            double argument = 1000 * sigma * Math.Exp(-Math.Log(10_000) * k / half);
            sin[k] = Math.Sin(argument);
            cos[k] = Math.Cos(argument);
        }
        return cos.Concat(sin).ToArray();
    }

    /// <summary>LayerNorm without affine parameters (eps 1e-6), then x * (1 + scale) + shift.</summary>
    static double[] Modulate(double[] x, double[] shift, double[] scale)
    {
        double mean = x.Average();
        double variance = x.Select(e => (e - mean) * (e - mean)).Average();
        double inverse = 1 / Math.Sqrt(variance + Epsilon);
        return x.Select((e, i) => (e - mean) * inverse * (1 + scale[i]) + shift[i]).ToArray();
    }

    static double[] RmsNorm(double[] x, double[] weight)
    {
        double inverse = 1 / Math.Sqrt(x.Select(e => e * e).Average() + Epsilon);
        return x.Select((e, i) => e * inverse * weight[i]).ToArray();
    }

    double[][] Linear(double[][] x, string module)
    {
        var (w, shape) = _weights[module + ".weight"];
        long outputs = shape[0], inputs = shape[1];
        var bias = _weights[module + ".bias"].Values;
        return x.Select(row =>
        {
            if (row.Length != inputs) throw new ArgumentException($"{module}: input has {row.Length} features; the weight expects {inputs}.");
            var y = new double[outputs];
            for (long o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                for (long i = 0; i < inputs; i++) sum += w[o * inputs + i] * row[i];
                y[o] = sum;
            }
            return y;
        }).ToArray();
    }

    double[][] Chunks(double[] values, int count) => Enumerable.Range(0, count).Select(c => values[(c * Inner)..((c + 1) * Inner)]).ToArray();

    bool Has(string key) => _weights.ContainsKey(key);

    double[] Values(string key) => _weights[key].Values;

    static double Silu(double x) => x / (1 + Math.Exp(-x));

    static double[] Silu(double[] x) => x.Select(Silu).ToArray();

    static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
