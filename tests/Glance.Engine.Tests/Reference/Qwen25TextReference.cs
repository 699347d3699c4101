using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

/// <summary>
/// An independent forward of Qwen2.5-VL's language model on text (transformers' Qwen2_5_VLModel with input_ids and an
/// attention mask, no images) in float64 with plain loops, written from modeling_qwen2_5_vl.py and reading weights by
/// the released checkpoint's keys ("model.embed_tokens.weight", "model.layers.N.self_attn.q_proj.weight", ...). It
/// shares no code with the engine and follows the published formulation literally:
/// <list type="bullet">
/// <item>Positions (get_rope_index without images): three position axes (temporal, height, width), each
/// cumsum(mask) - 1 with padding set to 1; all ones-mask: 0..T-1.</item>
/// <item>Multimodal rotary (apply_multimodal_rotary_pos_emb): per axis, angle = position x theta^(-2j/d) for
/// j &lt; d/2, duplicated to width d (cat(freqs, freqs)); the channels are cut into chunks of widths
/// mrope_section * 2 and chunk i takes its cos/sin from axis i % 3; then q cos + rotate_half(q) sin with
/// rotate_half(x) = [-x2, x1].</item>
/// <item>Attention: q, k, v with biases; key/value head of query head h is h / (heads / kv_heads) (repeat_kv);
/// scores q.k / sqrt(d) plus -infinity where the key is later than the query or is padding; softmax; o_proj
/// without bias. A query row with no allowed key (a padding query before every token) gives zeros; such rows are
/// padding and are reported as null.</item>
/// <item>Qwen2RMSNorm: x / sqrt(mean(x^2) + eps) * weight (float64 here, float32 in transformers).</item>
/// <item>Decoder layer: x + attn(input_layernorm(x)), then x + down(silu(gate n) * up n) with
/// n = post_attention_layernorm(x); the final model.norm gives hidden_states[-1].</item>
/// </list>
/// </summary>
internal sealed class Qwen25TextReference
{
    readonly Dictionary<string, (double[] Values, long[] Shape)> _weights;
    readonly int _heads;
    readonly int _kvHeads;
    readonly int[] _mropeSection;
    readonly double _theta;
    readonly double _epsilon;

    /// <param name="checkpoint">Weights under the released keys ("model.*").</param>
    public Qwen25TextReference(IReadOnlyDictionary<string, Tensor> checkpoint, int heads, int kvHeads, int[] mropeSection, double theta, double epsilon)
    {
        _weights = checkpoint.ToDictionary(
            kv => kv.Key,
            kv => (kv.Value.detach().to(ScalarType.Float64).cpu().data<double>().ToArray(), kv.Value.shape),
            StringComparer.Ordinal);
        _heads = heads;
        _kvHeads = kvHeads;
        _mropeSection = mropeSection;
        _theta = theta;
        _epsilon = epsilon;
    }

    /// <summary>One row: ids and an optional 1/0 mask to hidden states [T][hidden], null at padding positions.</summary>
    public double[]?[] Forward(long[] ids, long[]? mask = null)
    {
        int length = ids.Length;
        mask ??= Enumerable.Repeat(1L, length).ToArray();
        var (table, tableShape) = _weights["model.embed_tokens.weight"];
        int hidden = (int)tableShape[1];
        var x = ids.Select(id => table.Skip((int)(id * hidden)).Take(hidden).ToArray()).ToArray();

        // get_rope_index for text: cumsum - 1, padding set to 1; the same on all three axes.
        var positions = new long[3][];
        long count = 0;
        var axis = new long[length];
        for (int t = 0; t < length; t++)
        {
            count += mask[t];
            axis[t] = mask[t] == 1 ? count - 1 : 1;
        }
        for (int a = 0; a < 3; a++) positions[a] = axis;

        for (int n = 0; _weights.ContainsKey($"model.layers.{n}.input_layernorm.weight"); n++)
        {
            string p = $"model.layers.{n}.";
            var normed = x.Select(row => RmsNorm(row, p + "input_layernorm.weight")).ToArray();
            var attended = Attention(normed, p + "self_attn.", positions, mask);
            x = x.Select((row, i) => Add(row, attended[i])).ToArray();
            var n2 = x.Select(row => RmsNorm(row, p + "post_attention_layernorm.weight")).ToArray();
            var gate = Linear(n2, p + "mlp.gate_proj.weight", null);
            var up = Linear(n2, p + "mlp.up_proj.weight", null);
            var product = gate.Select((row, i) => row.Select((g, j) => g / (1 + Math.Exp(-g)) * up[i][j]).ToArray()).ToArray();
            var down = Linear(product, p + "mlp.down_proj.weight", null);
            x = x.Select((row, i) => Add(row, down[i])).ToArray();
        }
        return x.Select((row, i) => mask[i] == 1 ? RmsNorm(row, "model.norm.weight") : null).ToArray();
    }

    double[][] Attention(double[][] x, string p, long[][] positions, long[] mask)
    {
        int length = x.Length;
        var q = Linear(x, p + "q_proj.weight", p + "q_proj.bias");
        var k = Linear(x, p + "k_proj.weight", p + "k_proj.bias");
        var v = Linear(x, p + "v_proj.weight", p + "v_proj.bias");
        int d = q[0].Length / _heads;
        int groups = _heads / _kvHeads;
        var output = new double[length][];
        for (int i = 0; i < length; i++) output[i] = new double[_heads * d];

        for (int h = 0; h < _heads; h++)
        {
            int kvHead = h / groups;
            var qh = Enumerable.Range(0, length).Select(t => Rotate(q[t].Skip(h * d).Take(d).ToArray(), positions, t)).ToArray();
            var kh = Enumerable.Range(0, length).Select(t => Rotate(k[t].Skip(kvHead * d).Take(d).ToArray(), positions, t)).ToArray();
            var vh = Enumerable.Range(0, length).Select(t => v[t].Skip(kvHead * d).Take(d).ToArray()).ToArray();
            for (int i = 0; i < length; i++)
            {
                var scores = new double[length];
                double max = double.NegativeInfinity;
                for (int j = 0; j < length; j++)
                {
                    bool allowed = j <= i && mask[j] == 1;
                    scores[j] = allowed ? Dot(qh[i], kh[j]) / Math.Sqrt(d) : double.NegativeInfinity;
                    max = Math.Max(max, scores[j]);
                }
                if (double.IsNegativeInfinity(max)) continue; // no key to attend: a padding row, left at zero
                double sum = 0;
                for (int j = 0; j < length; j++)
                {
                    scores[j] = Math.Exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int c = 0; c < d; c++)
                {
                    double acc = 0;
                    for (int j = 0; j < length; j++) acc += scores[j] / sum * vh[j][c];
                    output[i][h * d + c] = acc;
                }
            }
        }
        return Linear(output, p + "o_proj.weight", null);
    }

    /// <summary>Multimodal rotary on one head vector at token t: chunk i of widths mrope_section * 2 reads axis i % 3.</summary>
    double[] Rotate(double[] vector, long[][] positions, int t)
    {
        int d = vector.Length, half = d / 2;
        int[] chunks = [.. _mropeSection, .. _mropeSection];
        var axisOfChannel = new int[d];
        int channel = 0;
        for (int i = 0; i < chunks.Length; i++)
        {
            for (int w = 0; w < chunks[i]; w++) axisOfChannel[channel++] = i % 3;
        }
        var result = new double[d];
        for (int c = 0; c < d; c++)
        {
            int j = c % half; // cat(freqs, freqs): channel c carries frequency c mod d/2
            double angle = positions[axisOfChannel[c]][t] * Math.Pow(_theta, -2.0 * j / d);
            double rotated = c < half ? -vector[c + half] : vector[c - half];
            result[c] = vector[c] * Math.Cos(angle) + rotated * Math.Sin(angle);
        }
        return result;
    }

    double[] RmsNorm(double[] row, string weightKey)
    {
        var (weight, _) = _weights[weightKey];
        double meanSquare = row.Sum(v => v * v) / row.Length;
        double scale = 1 / Math.Sqrt(meanSquare + _epsilon);
        return row.Select((v, i) => v * scale * weight[i]).ToArray();
    }

    double[][] Linear(double[][] x, string weightKey, string? biasKey)
    {
        var (w, shape) = _weights[weightKey];
        int outputs = (int)shape[0], inputs = (int)shape[1];
        double[]? bias = biasKey is null ? null : _weights[biasKey].Values;
        return x.Select(row =>
        {
            var result = new double[outputs];
            for (int o = 0; o < outputs; o++)
            {
                double acc = bias?[o] ?? 0;
                for (int i = 0; i < inputs; i++) acc += w[o * inputs + i] * row[i];
                result[o] = acc;
            }
            return result;
        }).ToArray();
    }

    static double Dot(double[] a, double[] b)
    {
        double acc = 0;
        for (int i = 0; i < a.Length; i++) acc += a[i] * b[i];
        return acc;
    }

    static double[] Add(double[] a, double[] b) => a.Select((v, i) => v + b[i]).ToArray();
}
