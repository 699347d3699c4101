using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>One network's weights as a device will hold them.</summary>
/// <param name="TextEncoder">A text encoder: it may live on another device than the transformer (EngineOptions.TextEncoderDevice).</param>
public sealed record ComponentDemand(string Name, long Bytes, ScalarType DType, bool TextEncoder);

/// <summary>The networks a model plan puts on one device ("cpu", "cuda", "cuda:N").</summary>
public sealed record DeviceDemand(string Device, IReadOnlyList<ComponentDemand> Components)
{
    public long WeightBytes => Components.Sum(c => c.Bytes);

    public bool IsHost => Device.Equals(MemoryCheck.Host, StringComparison.OrdinalIgnoreCase);
}

/// <summary>One device's demand against what it has left.</summary>
public sealed record MemoryVerdict(DeviceDemand Demand, AvailableMemory Available)
{
    /// <summary>The weights plus <see cref="MemoryCheck.LoadingMarginBytes"/>.</summary>
    public long NeededBytes => Demand.WeightBytes + MemoryCheck.LoadingMarginBytes;

    /// <summary>Null when the device's free memory is not known here (nothing is checked then).</summary>
    public bool? Fits => Available.Bytes is { } bytes ? NeededBytes <= bytes : null;
}

/// <summary>
/// The start-up check that a model's weights fit the memory its devices have left, run before any weight is read: a
/// model that cannot fit is refused with a message instead of being OOM-killed (a Kubernetes pod at its limit) or
/// crashing half-loaded.
/// </summary>
public static class MemoryCheck
{
    /// <summary>
    /// Memory beyond the weights that loading takes: the loader streams each tensor through at most this much (on the CPU
    /// the peak is the model + 1 GiB; with a GPU, about 1 GiB of host memory beyond idle), so the host always needs it.
    /// </summary>
    public const long LoadingMarginBytes = 1L << 30;

    public const string Host = "cpu";

    /// <summary>Each device of <paramref name="plan"/> against <paramref name="memory"/>; the host is added (margin only) when the plan puts no weights there, since the weights stream through it.</summary>
    public static IReadOnlyList<MemoryVerdict> Assess(IReadOnlyList<DeviceDemand> plan, IMemoryAvailability memory)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(memory);
        IEnumerable<DeviceDemand> devices = plan.Any(d => d.IsHost) ? plan : plan.Append(new DeviceDemand(Host, []));
        return [.. devices.Select(d => new MemoryVerdict(d, memory.Available(d.Device)))];
    }

    /// <summary>Throws <see cref="ModelMemoryException"/> when a device has too little memory left for the model in <paramref name="folder"/>.</summary>
    /// <returns>The verdicts, all fitting or not known.</returns>
    public static IReadOnlyList<MemoryVerdict> Verify(string folder, IReadOnlyList<DeviceDemand> plan, IMemoryAvailability memory)
    {
        var verdicts = Assess(plan, memory);
        if (verdicts.Any(v => v.Fits == false)) throw new ModelMemoryException(Shortage(folder, verdicts), verdicts);
        return verdicts;
    }

    /// <summary>One line per device: what it needs, what it has, and whether that fits.</summary>
    public static string Describe(MemoryVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        string needs = $"{verdict.Demand.Device} needs {ByteSize.Format(verdict.NeededBytes)} ({Weights(verdict.Demand)}{ByteSize.Format(LoadingMarginBytes)} while loading)";
        return verdict.Fits switch
        {
            true => $"{needs}; {ByteSize.Format(verdict.Available.Bytes!.Value)} available ({verdict.Available.Source}): fits",
            false => $"{needs}, but only {ByteSize.Format(verdict.Available.Bytes!.Value)} is available ({verdict.Available.Source}): does NOT fit",
            null => $"{needs}; {verdict.Available.Source}",
        };
    }

    static string Weights(DeviceDemand demand) => demand.Components.Count == 0
        ? "no weights, "
        : string.Join(", ", demand.Components.Select(c => $"{c.Name} {ByteSize.Format(c.Bytes)} in {c.DType}")) + ", plus ";

    static string Shortage(string folder, IReadOnlyList<MemoryVerdict> verdicts)
    {
        var lines = new List<string> { $"Not enough memory to load the model in '{folder}':" };
        lines.AddRange(verdicts.Select(v => "  " + Describe(v) + "."));
        lines.Add("What you can do:");
        lines.AddRange(Remedies(verdicts).Select(r => "  - " + r));
        return string.Join(Environment.NewLine, lines);
    }

    static IEnumerable<string> Remedies(IReadOnlyList<MemoryVerdict> verdicts)
    {
        var shortDevices = verdicts.Where(v => v.Fits == false).ToArray();
        bool gpuInPlan = verdicts.Any(v => !v.Demand.IsHost);
        foreach (var verdict in shortDevices)
        {
            if (verdict.Demand.Components.Any(c => c.DType == ScalarType.Float32))
                yield return $"serve {verdict.Demand.Device}'s float32 weights in a smaller dtype such as bfloat16 (half the bytes): Glance:Model:DType, or Glance:Model:TextEncoderDType for the text encoders (--dtype)";
            if (!verdict.Demand.IsHost && verdict.Demand.Components.Any(c => c.TextEncoder))
                yield return $"keep the text encoders on the host so that {verdict.Demand.Device} holds only the transformer and the VAE: Glance:Model:TextEncoderDevice=cpu (--text-encoder-device cpu)";
            if (verdict.Demand.IsHost && gpuInPlan && verdict.Demand.Components.Any(c => c.TextEncoder))
                yield return "move the text encoders to the GPU with the model if it has room: Glance:Model:TextEncoderDevice=model (--text-encoder-device model)";
            if (verdict.Demand.IsHost && verdict.Available.Source.StartsWith("cgroup", StringComparison.Ordinal))
                yield return $"raise the container's memory limit (Kubernetes resources.limits.memory, docker --memory) by at least {ByteSize.Format(verdict.NeededBytes - verdict.Available.Bytes!.Value)}";
            else if (verdict.Demand.IsHost)
                yield return $"free at least {ByteSize.Format(verdict.NeededBytes - verdict.Available.Bytes!.Value)} of host memory, or use a machine with more";
            else
                yield return $"free at least {ByteSize.Format(verdict.NeededBytes - verdict.Available.Bytes!.Value)} on {verdict.Demand.Device} (nvidia-smi lists the processes that hold its memory), or use a GPU with more";
        }
        yield return "if swap or memory overcommit is intended, turn this check off: Glance:Model:CheckMemory=false (--no-memory-check)";
    }
}
