using static TorchSharp.torch;

namespace Glance.Engine.Tests.Reference;

internal static class TensorRows
{
    /// <summary>A 2-D tensor's rows as float64 arrays, for comparisons with the loop-based references.</summary>
    public static double[][] Of(Tensor t) =>
        Enumerable.Range(0, (int)t.shape[0]).Select(i => t[i].to(ScalarType.Float64).data<double>().ToArray()).ToArray();
}
