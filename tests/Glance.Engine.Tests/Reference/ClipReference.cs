using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent CLIP text encoder forward in float64 with plain loops, written from transformers' modeling_clip.py
/// (CLIPTextTransformer, CLIPEncoderLayer, CLIPAttention, CLIPMLP) and reading weights by the CLIPTextModel keys. It
/// shares no code with the engine, so tests can pin the engine's maths (pre-LayerNorm order, causal mask, scale,
/// activation, pooling position) to values computed another way.
/// </summary>
internal sealed class ClipReference
{
    const string Prefix = "text_model.";

    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;
    readonly int _heads;
    readonly double _eps;
    readonly string _hiddenAct;
    readonly int _eosTokenId;

    public ClipReference(IReadOnlyDictionary<string, Tensor> stateDict, int heads, double layerNormEps, string hiddenAct, int eosTokenId)
    {
        _weights = stateDict.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.detach().to(ScalarType.Float64).cpu().data<double>().ToArray(), kv.Value.shape),
            StringComparer.Ordinal);
        _heads = heads;
        _eps = layerNormEps;
        _hiddenAct = hiddenAct;
        _eosTokenId = eosTokenId;
    }

    /// <summary>One sequence of ids to (final-LayerNorm states [L][H], pooled state [H]) and the pooled position.</summary>
    public (double[][] Hidden, double[] Pooled, int PooledIndex) Forward(long[] ids)
    {
        var tokens = Rows(Prefix + "embeddings.token_embedding.weight");
        var positions = Rows(Prefix + "embeddings.position_embedding.weight");
        var x = ids.Select((id, t) => Add(tokens[id], positions[t])).ToArray();
        for (int n = 0; _weights.ContainsKey($"{Prefix}encoder.layers.{n}.layer_norm1.weight"); n++)
        {
            string p = $"{Prefix}encoder.layers.{n}.";
            var attended = SelfAttention(x.Select(r => LayerNorm(r, p + "layer_norm1")).ToArray(), p + "self_attn.");
            x = x.Select((r, t) => Add(r, attended[t])).ToArray();
            var hidden = Linear(x.Select(r => LayerNorm(r, p + "layer_norm2")).ToArray(), p + "mlp.fc1");
            var mlp = Linear(hidden.Select(r => r.Select(Activation).ToArray()).ToArray(), p + "mlp.fc2");
            x = x.Select((r, t) => Add(r, mlp[t])).ToArray();
        }
        var final = x.Select(r => LayerNorm(r, Prefix + "final_layer_norm")).ToArray();
        int index = PooledIndex(ids);
        return (final, final[index], index);
    }

    /// <summary>
    /// eos_token_id 2 (configs older than transformers PR #24773): argmax of the ids, first occurrence of the largest.
    /// Otherwise: the first position whose id is eos_token_id (argmax of the 0/1 matches: 0 when there is none).
    /// </summary>
    int PooledIndex(long[] ids)
    {
        if (_eosTokenId == 2) return Array.IndexOf(ids, ids.Max());
        int first = Array.IndexOf(ids, (long)_eosTokenId);
        return first < 0 ? 0 : first;
    }

    /// <summary>Per head: softmax(q k^T * head_dim^-0.5 + causal mask) v, keys after the query masked out.</summary>
    double[][] SelfAttention(double[][] h, string p)
    {
        var q = Linear(h, p + "q_proj");
        var k = Linear(h, p + "k_proj");
        var v = Linear(h, p + "v_proj");
        int length = h.Length, width = q[0].Length, d = width / _heads;
        double scale = 1 / Math.Sqrt(d);
        var merged = Enumerable.Range(0, length).Select(_ => new double[width]).ToArray();
        for (int head = 0; head < _heads; head++)
        {
            int o = head * d;
            for (int i = 0; i < length; i++)
            {
                var scores = new double[i + 1];
                for (int j = 0; j <= i; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < d; e++) dot += q[i][o + e] * k[j][o + e];
                    scores[j] = dot * scale;
                }
                double max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int j = 0; j <= i; j++)
                {
                    for (int e = 0; e < d; e++) merged[i][o + e] += weights[j] / total * v[j][o + e];
                }
            }
        }
        return Linear(merged, p + "out_proj");
    }

    double Activation(double u) => _hiddenAct switch
    {
        "quick_gelu" => u / (1 + Math.Exp(-1.702 * u)),
        "gelu" => 0.5 * u * (1 + Erf(u / Math.Sqrt(2))),
        _ => throw new ArgumentException($"No reference for activation '{_hiddenAct}'."),
    };

    double[] LayerNorm(double[] x, string name)
    {
        var weight = _weights[name + ".weight"].Values;
        var bias = _weights[name + ".bias"].Values;
        double mean = x.Average();
        double variance = x.Select(value => (value - mean) * (value - mean)).Average();
        double inverse = 1 / Math.Sqrt(variance + _eps);
        return x.Select((value, i) => (value - mean) * inverse * weight[i] + bias[i]).ToArray();
    }

    double[][] Linear(double[][] x, string name)
    {
        var (weight, shape) = _weights[name + ".weight"];
        var bias = _weights[name + ".bias"].Values;
        int outputs = (int)shape[0], inputs = (int)shape[1];
        return x.Select(row =>
        {
            var y = new double[outputs];
            for (int o = 0; o < outputs; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inputs; i++) sum += weight[o * inputs + i] * row[i];
                y[o] = sum;
            }
            return y;
        }).ToArray();
    }

    double[][] Rows(string name)
    {
        var (values, shape) = _weights[name];
        int columns = (int)shape[1];
        return Enumerable.Range(0, (int)shape[0]).Select(r => values.Skip(r * columns).Take(columns).ToArray()).ToArray();
    }

    static double[] Add(double[] a, double[] b) => a.Select((value, i) => value + b[i]).ToArray();

    /// <summary>erf in float64: its Maclaurin series below 3, 1 - erfc from erfc's continued fraction above.</summary>
    static double Erf(double x)
    {
        double z = Math.Abs(x);
        double result;
        if (z < 3)
        {
            double term = z, sum = z;
            for (int n = 1; Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(z) = exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...)))), evaluated from the tail.
            double tail = z;
            for (int k = 80; k >= 1; k--) tail = z + k / 2.0 / tail;
            result = 1 - Math.Exp(-z * z) / Math.Sqrt(Math.PI) / tail;
        }
        return x < 0 ? -result : result;
    }
}
