using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent FLUX.1 transformer forward in float64 with plain loops over arrays, written from the reference
/// model of black-forest-labs/flux (src/flux/model.py, modules/layers.py, math.py) and reading weights by the BFL
/// checkpoint keys. It shares no code with the engine: it exists so that tests can pin the engine's maths (modulation
/// order, RoPE, timestep scaling, attention layout) to values computed another way.
/// </summary>
internal sealed class FluxReference
{
    const double NormEpsilon = 1e-6;

    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;
    readonly int _hidden;
    readonly int _heads;
    readonly int[] _axes;
    readonly double _theta;

    public FluxReference(IReadOnlyDictionary<string, Tensor> stateDict, int hidden, int heads, int[] axesDim, double theta)
    {
        _weights = stateDict.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.detach().to(ScalarType.Float64).cpu().data<double>().ToArray(), kv.Value.shape),
            StringComparer.Ordinal);
        _hidden = hidden;
        _heads = heads;
        _axes = axesDim;
        _theta = theta;
    }

    int HeadDim => _hidden / _heads;

    /// <summary>One sample: img [L, C], txt [T, D], ids as [L or T][3] positions, timestep sigma, pooled y, optional guidance.</summary>
    public double[][] Forward(double[][] img, double[][] imgIds, double[][] txt, double[][] txtIds, double timestep, double[] y, double? guidance)
    {
        var imgH = Linear(img, "img_in");
        var vec = Mlp(Sinusoid(timestep), "time_in");
        if (guidance is { } g) vec = Add(vec, Mlp(Sinusoid(g), "guidance_in"));
        vec = Add(vec, Mlp(y, "vector_in"));
        var txtH = Linear(txt, "txt_in");
        var ids = txtIds.Concat(imgIds).ToArray();

        for (int b = 0; Has($"double_blocks.{b}.img_mod.lin.weight"); b++)
            (imgH, txtH) = DoubleBlock($"double_blocks.{b}.", imgH, txtH, vec, ids);
        var joint = txtH.Concat(imgH).ToArray();
        for (int b = 0; Has($"single_blocks.{b}.linear1.weight"); b++)
            joint = SingleBlock($"single_blocks.{b}.", joint, vec, ids);
        var imgOut = joint.Skip(txtH.Length).ToArray();

        // LastLayer: shift, scale = adaLN_modulation(vec).chunk(2); x = (1 + scale) * norm(x) + shift; linear(x).
        var shiftScale = Linear([Silu(vec)], "final_layer.adaLN_modulation.1")[0];
        var shift = shiftScale[.._hidden];
        var scale = shiftScale[_hidden..];
        return Linear(imgOut.Select(row => Modulated(row, shift, scale)).ToArray(), "final_layer.linear");
    }

    (double[][] Img, double[][] Txt) DoubleBlock(string p, double[][] img, double[][] txt, double[] vec, double[][] ids)
    {
        // Modulation: lin(silu(vec)) in 6 chunks: (shift, scale, gate) for attention, then for the MLP.
        var imgMod = Chunks(Linear([Silu(vec)], p + "img_mod.lin")[0], 6);
        var txtMod = Chunks(Linear([Silu(vec)], p + "txt_mod.lin")[0], 6);
        var (imgQ, imgK, imgV) = QkvPerHead(Linear(img.Select(r => Modulated(r, imgMod[0], imgMod[1])).ToArray(), p + "img_attn.qkv"), p + "img_attn.norm.");
        var (txtQ, txtK, txtV) = QkvPerHead(Linear(txt.Select(r => Modulated(r, txtMod[0], txtMod[1])).ToArray(), p + "txt_attn.qkv"), p + "txt_attn.norm.");
        var attended = Attention(Join(txtQ, imgQ), Join(txtK, imgK), Join(txtV, imgV), ids);
        var txtAttended = attended.Take(txt.Length).ToArray();
        var imgAttended = attended.Skip(txt.Length).ToArray();

        double[][] Stream(double[][] x, double[][] attn, double[][] mod, string prefix)
        {
            var proj = Linear(attn, prefix + "_attn.proj");
            var afterAttention = x.Select((row, i) => Add(row, Mul(mod[2], proj[i]))).ToArray();
            var hidden = Linear(afterAttention.Select(r => Modulated(r, mod[3], mod[4])).ToArray(), prefix + "_mlp.0");
            var mlp = Linear(hidden.Select(r => r.Select(GeluTanh).ToArray()).ToArray(), prefix + "_mlp.2");
            return afterAttention.Select((row, i) => Add(row, Mul(mod[5], mlp[i]))).ToArray();
        }

        return (Stream(img, imgAttended, imgMod, p + "img"), Stream(txt, txtAttended, txtMod, p + "txt"));
    }

    double[][] SingleBlock(string p, double[][] x, double[] vec, double[][] ids)
    {
        var mod = Chunks(Linear([Silu(vec)], p + "modulation.lin")[0], 3);
        var fused = Linear(x.Select(r => Modulated(r, mod[0], mod[1])).ToArray(), p + "linear1");
        var qkv = fused.Select(r => r[..(3 * _hidden)]).ToArray();
        var mlp = fused.Select(r => r[(3 * _hidden)..].Select(GeluTanh).ToArray()).ToArray();
        var (q, k, v) = QkvPerHead(qkv, p + "norm.");
        var attended = Attention(q, k, v, ids);
        var output = Linear(attended.Select((a, i) => a.Concat(mlp[i]).ToArray()).ToArray(), p + "linear2");
        return x.Select((row, i) => Add(row, Mul(mod[2], output[i]))).ToArray();
    }

    /// <summary>"B L (K H D) -> K B H L D" then RMS norm of q and k per head with their scales: [head][token][d].</summary>
    (double[][][] Q, double[][][] K, double[][][] V) QkvPerHead(double[][] qkv, string normPrefix)
    {
        int d = HeadDim;
        double[][][] Part(int which) => Enumerable.Range(0, _heads)
            .Select(h => qkv.Select(row => row.Skip(which * _hidden + h * d).Take(d).ToArray()).ToArray()).ToArray();
        var qScale = Values(normPrefix + "query_norm.scale");
        var kScale = Values(normPrefix + "key_norm.scale");
        var q = Part(0).Select(head => head.Select(t => RmsNorm(t, qScale)).ToArray()).ToArray();
        var k = Part(1).Select(head => head.Select(t => RmsNorm(t, kScale)).ToArray()).ToArray();
        return (q, k, Part(2));
    }

    static double[][][] Join(double[][][] first, double[][][] second) =>
        first.Select((head, h) => head.Concat(second[h]).ToArray()).ToArray();

    /// <summary>RoPE on q and k, softmax(q k / sqrt(d)) v per head, heads concatenated per token ("B H L D -> B L (H D)").</summary>
    double[][] Attention(double[][][] q, double[][][] k, double[][][] v, double[][] ids)
    {
        int tokens = ids.Length, d = HeadDim;
        var output = Enumerable.Range(0, tokens).Select(_ => new double[_hidden]).ToArray();
        for (int h = 0; h < _heads; h++)
        {
            var qr = q[h].Select((t, i) => Rotate(t, ids[i])).ToArray();
            var kr = k[h].Select((t, i) => Rotate(t, ids[i])).ToArray();
            for (int i = 0; i < tokens; i++)
            {
                var scores = new double[tokens];
                for (int j = 0; j < tokens; j++) scores[j] = Dot(qr[i], kr[j]) / Math.Sqrt(d);
                double max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int j = 0; j < tokens; j++)
                {
                    for (int e = 0; e < d; e++) output[i][h * d + e] += weights[j] / total * v[h][j][e];
                }
            }
        }
        return output;
    }

    /// <summary>
    /// Rotates consecutive pairs (x0, x1) of a head vector by the angle pos_a * theta^(-2j / dim_a), the axes' pair
    /// ranges concatenated in order: (cos x0 - sin x1, sin x0 + cos x1), as rope/apply_rope in flux/math.py.
    /// </summary>
    double[] Rotate(double[] x, double[] position)
    {
        var result = new double[x.Length];
        int pair = 0;
        for (int axis = 0; axis < _axes.Length; axis++)
        {
            for (int j = 0; j < _axes[axis] / 2; j++, pair++)
            {
                double angle = position[axis] * Math.Pow(_theta, -2.0 * j / _axes[axis]);
                double x0 = x[2 * pair], x1 = x[2 * pair + 1];
                result[2 * pair] = Math.Cos(angle) * x0 - Math.Sin(angle) * x1;
                result[2 * pair + 1] = Math.Sin(angle) * x0 + Math.Cos(angle) * x1;
            }
        }
        return result;
    }

    /// <summary>timestep_embedding(t, 256): t scaled by 1000, [cos(t f_i), sin(t f_i)] with f_i = 10000^(-i / 128).</summary>
    static double[] Sinusoid(double t)
    {
        const int half = 128;
        var embedding = new double[2 * half];
        for (int i = 0; i < half; i++)
        {
            double argument = 1000 * t * Math.Exp(-Math.Log(10000) * i / half);
            embedding[i] = Math.Cos(argument);
            embedding[half + i] = Math.Sin(argument);
        }
        return embedding;
    }

    double[] Mlp(double[] x, string prefix) => Linear([Silu(Linear([x], prefix + ".in_layer")[0])], prefix + ".out_layer")[0];

    /// <summary>(1 + scale) * LayerNorm(x) + shift, LayerNorm without affine parameters, eps 1e-6.</summary>
    static double[] Modulated(double[] x, double[] shift, double[] scale)
    {
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        return x.Select((v, i) => (1 + scale[i]) * ((v - mean) / Math.Sqrt(variance + NormEpsilon)) + shift[i]).ToArray();
    }

    static double[] RmsNorm(double[] x, double[] scale)
    {
        double rms = Math.Sqrt(x.Select(v => v * v).Average() + NormEpsilon);
        return x.Select((v, i) => v / rms * scale[i]).ToArray();
    }

    double[][] Linear(double[][] x, string prefix)
    {
        var (w, shape) = _weights[prefix + ".weight"];
        long outputs = shape[0], inputs = shape[1];
        var bias = _weights.TryGetValue(prefix + ".bias", out var b) ? b.Values : new double[outputs];
        return x.Select(row =>
        {
            if (row.Length != inputs) throw new ArgumentException($"{prefix}: input has {row.Length} features; the weight expects {inputs}.");
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

    double[][] Chunks(double[] values, int count) => Enumerable.Range(0, count).Select(c => values.Skip(c * _hidden).Take(_hidden).ToArray()).ToArray();

    bool Has(string key) => _weights.ContainsKey(key);

    double[] Values(string key) => _weights[key].Values;

    static double Silu(double x) => x / (1 + Math.Exp(-x));

    static double[] Silu(double[] x) => x.Select(Silu).ToArray();

    static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();

    static double[] Mul(double[] a, double[] b) => a.Select((v, i) => v * b[i]).ToArray();

    static double Dot(double[] a, double[] b) => a.Select((v, i) => v * b[i]).Sum();
}
