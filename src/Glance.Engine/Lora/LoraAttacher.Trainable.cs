using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

public static partial class LoraAttacher
{
    /// <summary>
    /// Attaches a fresh adapter for training on the given modules: down kaiming-uniform (a = sqrt 5, drawn from
    /// <paramref name="seed"/>), up zero, so the model starts unchanged. Freezes every other parameter of the
    /// model, and returns the adapter tensors (down, up per target) for the optimizer.
    /// </summary>
    /// <param name="targetModules">Module names as the adapter file will spell them: BFL paths, or any name
    /// <paramref name="resolveTarget"/> maps to a block of rows of a layer (a diffusers to_q is a third of a fused qkv).</param>
    /// <param name="resolveTarget">As in <see cref="Attach"/>; null resolves BFL paths only.</param>
    public static IReadOnlyList<Parameter> CreateTrainable(
        nn.Module model, string adapterName, IEnumerable<string> targetModules, int rank, double alpha, long seed,
        Func<string, ModuleSlice?>? resolveTarget = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapterName);
        ArgumentNullException.ThrowIfNull(targetModules);
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "expected a positive rank");
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "expected a positive alpha");
        var targets = targetModules.ToList();
        if (targets.Count == 0) throw new ArgumentException("expected at least one target module; received none", nameof(targetModules));
        var repeated = targets.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"target module '{repeated.Key}' is listed {repeated.Count()} times", nameof(targetModules));

        var layers = LoraLayers.Of(model);
        EnsureNotAttached(layers, adapterName);
        var fallback = new LoraTargetResolver(layers);
        var slices = new List<ModuleSlice>(targets.Count);
        foreach (string target in targets)
        {
            var slice = resolveTarget?.Invoke(target) ?? fallback.Resolve(target);
            if (slice is null || !layers.TryGetValue(slice.Module, out var layer))
                throw new ArgumentException($"target module '{target}' is not a LoraLinear layer of the model, nor a block of rows of one", nameof(targetModules));
            long rows = slice.Rows ?? layer.OutFeatures - slice.RowOffset;
            if (slice.RowOffset < 0 || rows <= 0 || slice.RowOffset + rows > layer.OutFeatures)
                throw new ArgumentException($"target module '{target}' maps to rows [{slice.RowOffset}, {slice.RowOffset + rows}) of '{slice.Module}', which has {layer.OutFeatures} output rows", nameof(targetModules));
            slices.Add(slice with { Rows = rows });
        }

        foreach (var parameter in model.parameters()) parameter.requires_grad = false;

        using var generator = new Generator(unchecked((ulong)seed));
        var trainable = new List<Parameter>(targets.Count * 2);
        foreach (var (target, slice) in targets.Zip(slices))
        {
            var layer = layers[slice.Module];
            var (dtype, device) = (layer.weight.dtype, layer.weight.device);
            Parameter down, up;
            using (no_grad())
            {
                // kaiming_uniform_ with a = sqrt(5) on a [rank, in] tensor is U(-1/sqrt(in), 1/sqrt(in)); drawn on the
                // CPU in float32 so that a seed gives the same adapter on every device and dtype.
                double bound = 1 / Math.Sqrt(layer.InFeatures);
                using var draw = empty(rank, layer.InFeatures, dtype: ScalarType.Float32).uniform_(-bound, bound, generator);
                down = new Parameter(draw.to(dtype, device, copy: true), requires_grad: true);
                up = new Parameter(zeros(slice.Rows!.Value, rank, dtype: dtype, device: device), requires_grad: true);
            }
            layer.AddPiece(adapterName, new LoraPiece(target, down, up, slice.RowOffset, alpha, alpha / rank));
            trainable.Add(down);
            trainable.Add(up);
        }
        return trainable;
    }
}
