using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent T5 v1.1 encoder forward (T5EncoderModel) in float64 with plain loops over arrays, written from
/// transformers' modeling_t5.py (T5Stack, T5Block, T5Attention, T5LayerNorm, T5DenseGatedActDense with gelu_new) and
/// reading weights by the Hugging Face keys. It shares no code with the engine:
/// <list type="bullet">
/// <item>Relative position bias: bucket of (key position - query position), bidirectional; computed once from
/// block 0's table and added in every layer, with the padding mask added to it.</item>
/// <item>Attention: softmax(q k + bias) v per head, scores NOT divided by sqrt(d_kv).</item>
/// <item>T5LayerNorm: x / sqrt(mean(x^2) + eps) * weight, no mean subtraction, no bias. transformers takes the mean
/// of squares in float32; here it is float64, which for float32 inputs differs only by rounding.</item>
/// <item>Pre-norm residual blocks: x + attention(norm(x)), then x + wo(gelu_new(wi_0 n) * wi_1 n) with n = norm(x);
/// a final norm after the last block.</item>
/// </list>
/// </summary>
internal sealed class T5Reference
{
    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;
    readonly int _heads;
    readonly int _dKv;
    readonly int _numBuckets;
    readonly int _maxDistance;
    readonly double _epsilon;

    public T5Reference(IReadOnlyDictionary<string, Tensor> stateDict, int heads, int dKv, int numBuckets, int maxDistance, double epsilon)
    {
        _weights = stateDict.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.detach().to(ScalarType.Float64).cpu().data<double>().ToArray(), kv.Value.shape),
            StringComparer.Ordinal);
        _heads = heads;
        _dKv = dKv;
        _numBuckets = numBuckets;
        _maxDistance = maxDistance;
        _epsilon = epsilon;
    }

    /// <summary>One sequence: token ids and an optional 1/0 mask (0: padding, never attended to) to hidden states [L][d_model].</summary>
    public double[][] Forward(long[] ids, long[]? mask = null)
    {
        var (table, tableShape) = _weights["shared.weight"];
        long dModel = tableShape[1];
        var x = ids.Select(id => table.Skip((int)(id * dModel)).Take((int)dModel).ToArray()).ToArray();
        var bias = PositionBias(ids.Length, mask);
        for (int n = 0; _weights.ContainsKey($"encoder.block.{n}.layer.0.SelfAttention.q.weight"); n++)
        {
            string p = $"encoder.block.{n}.layer.";
            var attended = SelfAttention(x.Select(row => RmsNorm(row, p + "0.layer_norm.weight")).ToArray(), p + "0.SelfAttention.", bias);
            x = x.Select((row, i) => Add(row, attended[i])).ToArray();
            var normed = x.Select(row => RmsNorm(row, p + "1.layer_norm.weight")).ToArray();
            var gate = Linear(normed, p + "1.DenseReluDense.wi_0.weight");
            var linear = Linear(normed, p + "1.DenseReluDense.wi_1.weight");
            var hidden = gate.Select((row, i) => row.Select((g, j) => GeluNew(g) * linear[i][j]).ToArray()).ToArray();
            var output = Linear(hidden, p + "1.DenseReluDense.wo.weight");
            x = x.Select((row, i) => Add(row, output[i])).ToArray();
        }
        return x.Select(row => RmsNorm(row, "encoder.final_layer_norm.weight")).ToArray();
    }

    /// <summary>bias[h][query][key] from block 0's table, minus infinity at padded keys.</summary>
    double[][][] PositionBias(int length, long[]? mask)
    {
        var (table, _) = _weights["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"];
        var bias = new double[_heads][][];
        for (int h = 0; h < _heads; h++)
        {
            bias[h] = new double[length][];
            for (int i = 0; i < length; i++)
            {
                bias[h][i] = new double[length];
                for (int j = 0; j < length; j++)
                {
                    bias[h][i][j] = mask is not null && mask[j] == 0
                        ? double.NegativeInfinity
                        : table[Bucket(j - i) * _heads + h];
                }
            }
        }
        return bias;
    }

    /// <summary>
    /// _relative_position_bucket, bidirectional: half the buckets per direction (the upper half for keys after the
    /// query); within a half, distances below a quarter of all buckets are exact, larger ones log-spaced up to
    /// max_distance, beyond it the last bucket. transformers evaluates the logarithm in float32 and truncates; so does
    /// this, since a float64 quotient can land on the other side of an integer at distances like 2 * max_exact.
    /// </summary>
    int Bucket(int relative)
    {
        int half = _numBuckets / 2;
        int bucket = relative > 0 ? half : 0;
        int distance = Math.Abs(relative);
        int maxExact = half / 2;
        if (distance < maxExact) return bucket + distance;
        float scaled = MathF.Log((float)distance / maxExact) / (float)Math.Log((double)_maxDistance / maxExact) * (half - maxExact);
        return bucket + Math.Min(maxExact + (int)scaled, half - 1);
    }

    double[][] SelfAttention(double[][] x, string prefix, double[][][] bias)
    {
        var q = Linear(x, prefix + "q.weight");
        var k = Linear(x, prefix + "k.weight");
        var v = Linear(x, prefix + "v.weight");
        int length = x.Length;
        var merged = Enumerable.Range(0, length).Select(_ => new double[_heads * _dKv]).ToArray();
        for (int h = 0; h < _heads; h++)
        {
            for (int i = 0; i < length; i++)
            {
                var scores = new double[length];
                for (int j = 0; j < length; j++)
                {
                    double dot = 0;
                    for (int e = 0; e < _dKv; e++) dot += q[i][h * _dKv + e] * k[j][h * _dKv + e];
                    scores[j] = dot + bias[h][i][j];
                }
                double max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int j = 0; j < length; j++)
                {
                    for (int e = 0; e < _dKv; e++) merged[i][h * _dKv + e] += weights[j] / total * v[j][h * _dKv + e];
                }
            }
        }
        return Linear(merged, prefix + "o.weight");
    }

    double[] RmsNorm(double[] x, string key)
    {
        var weight = _weights[key].Values;
        double meanSquare = x.Select(v => v * v).Average();
        double scale = 1 / Math.Sqrt(meanSquare + _epsilon);
        return x.Select((v, i) => weight[i] * (v * scale)).ToArray();
    }

    /// <summary>Bias-free nn.Linear: y = W x with W [out, in].</summary>
    double[][] Linear(double[][] x, string key)
    {
        var (w, shape) = _weights[key];
        long outputs = shape[0], inputs = shape[1];
        return x.Select(row =>
        {
            var y = new double[outputs];
            for (long o = 0; o < outputs; o++)
            {
                double sum = 0;
                for (long i = 0; i < inputs; i++) sum += w[o * inputs + i] * row[i];
                y[o] = sum;
            }
            return y;
        }).ToArray();
    }

    /// <summary>NewGELUActivation: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).</summary>
    static double GeluNew(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * Math.Pow(x, 3))));

    static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
