using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>Loads whatever model a folder holds: an unmodified FLUX.1 or Qwen-Image snapshot, or our own model folder.</summary>
public static class ModelLoader
{
    /// <param name="adapterScale">The scale for the adapters of our own folder's adapters/ (null: each file's alpha / rank).</param>
    /// <param name="memory">Where the memory check (<see cref="EngineOptions.CheckMemory"/>) learns what each device has left; null: this machine (<see cref="SystemMemory.Host"/>).</param>
    /// <param name="report">Told the memory check's outcome, one line (or that it is off), for the start-up log.</param>
    /// <exception cref="ModelMemoryException">The weights do not fit; thrown before any weight is read.</exception>
    public static DiffusionModel Load(string folder, EngineOptions options, double? adapterScale = null, IMemoryAvailability? memory = null, Action<string>? report = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (options.CheckMemory)
        {
            var verdicts = CheckMemory(folder, options, memory);
            report?.Invoke("Memory check: " + string.Join("; ", verdicts.Select(MemoryCheck.Describe)));
        }
        else
        {
            report?.Invoke("Memory check off (CheckMemory is false): the weights are loaded whether or not they fit.");
        }
        return SnapshotFolder.PipelineClassOf(folder) == QwenImageSnapshot.PipelineClass
            ? QwenImageLoading.Load(QwenImageSnapshot.Open(folder), options)
            : GlanceModel.Load(folder, options, adapterScale);
    }

    /// <summary>
    /// Checks, from the configs and safetensors headers alone, that the model in <paramref name="folder"/> fits the memory
    /// each device of <paramref name="options"/>' plan has left (the transformer and VAE on the model's device, the text
    /// encoders on theirs, each in its dtype, plus <see cref="MemoryCheck.LoadingMarginBytes"/>).
    /// </summary>
    /// <exception cref="ModelMemoryException">A device has too little memory left.</exception>
    public static IReadOnlyList<MemoryVerdict> CheckMemory(string folder, EngineOptions options, IMemoryAvailability? memory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var device = TorchRuntime.ResolveDevice(options.Device);
        var dtype = TorchRuntime.ResolveDType(options.DType, device);
        var text = TorchRuntime.ResolveTextEncoders(options, device, dtype);
        var plan = ModelInspection.Inspect(folder, options.MaxSequenceLength).Demands(NameOf(device), dtype, NameOf(text.Device), text.DType);
        return MemoryCheck.Verify(folder, plan, memory ?? SystemMemory.Host);
    }

    static string NameOf(Device device) => device.type == DeviceType.CPU ? MemoryCheck.Host : device.ToString();
}
