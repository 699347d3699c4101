namespace Glance.Engine.Models;

/// <summary>The checks every multi-axis RoPE configuration passes (FLUX.1, Qwen-Image): one even size per axis, adding up to the head size.</summary>
public static class RopeAxes
{
    /// <param name="field">The config field's name for messages ("AxesDim", "AxesDimsRope").</param>
    /// <param name="headSize">The head size the axes must add up to, described for messages.</param>
    public static void Check(int[]? axes, string field, int headSize, string headSizeName)
    {
        if (axes is null || axes.Length == 0)
            throw new ArgumentException($"{field} is empty; expected one RoPE size per position axis (e.g. [16, 56, 56]).");
        for (int i = 0; i < axes.Length; i++)
        {
            if (axes[i] <= 0 || axes[i] % 2 != 0)
                throw new ArgumentException($"{field}[{i}] is {axes[i]}; expected a positive even number (RoPE rotates pairs).");
        }
        int sum = axes.Sum();
        if (sum != headSize)
            throw new ArgumentException($"{field} [{string.Join(", ", axes)}] adds up to {sum}; expected {headSizeName} = {headSize}.");
    }
}
