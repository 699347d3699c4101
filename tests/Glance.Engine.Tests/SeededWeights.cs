using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>
/// Gives a freshly built test module weights drawn from its own generator. Module constructors draw from libtorch's
/// global generator, which test classes running in parallel share, so a model built after `manual_seed` can differ
/// from run to run and a figure measured on it moves with test order. Every parameter that is not constant (norm
/// scales of one, zero biases keep their constant initialisation) is redrawn uniformly within +-1/sqrt(fan-in),
/// PyTorch's default bound for linear and convolution layers; a bias takes its weight's fan-in.
/// </summary>
internal static class SeededWeights
{
    public static T Redraw<T>(T module, long seed) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)seed, CPU);
        var parameters = module.named_parameters().ToArray();
        var fanIns = parameters.Where(p => p.parameter.dim() >= 2)
            .ToDictionary(p => p.name, p => p.parameter.numel() / p.parameter.shape[0], StringComparer.Ordinal);
        foreach (var (name, parameter) in parameters)
        {
            if (IsConstant(parameter)) continue;
            string weightName = name.EndsWith(".bias", StringComparison.Ordinal) ? name[..^".bias".Length] + ".weight" : name;
            long fanIn = fanIns.TryGetValue(weightName, out long f) ? f : parameter.shape[^1];
            double bound = 1 / Math.Sqrt(fanIn);
            using var unit = rand(parameter.shape, dtype: ScalarType.Float32, device: CPU, generator: generator);
            using var values = unit.Times(2 * bound).Minus(bound);
            parameter.copy_(values);
        }
        return module;
    }

    static bool IsConstant(Tensor parameter)
    {
        using var low = parameter.min();
        using var high = parameter.max();
        using var equal = low.eq(high);
        return equal.item<bool>();
    }
}
