using System.CommandLine;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;

namespace Glance.Cli.Commands;

/// <summary>The options every command that loads a model shares: which model, on which device, in which precision.</summary>
/// <param name="defaultDType">"auto" for inference (as the server); training passes "float32" so that a host with
/// native bfloat16 does not silently train in it.</param>
internal sealed class ModelArguments(string defaultDType = "auto")
{
    public Option<string> Model { get; } = new("--model") { Description = "Model name (under models/), model folder, or FLUX.1 / Qwen-Image snapshot folder", DefaultValueFactory = _ => ModelLocator.DefaultModel };
    public Option<string> TextEncoderDevice { get; } = new("--text-encoder-device") { Description = "model (the model's device) or a device such as cpu for the text encoders", DefaultValueFactory = _ => Glance.Engine.Runtime.EngineOptions.ModelPlacement };
    public Option<int?> MaxSequenceLength { get; } = new("--max-sequence-length") { Description = "Text tokens per prompt: FLUX.1 T5 1-512 (default 512 dev, 256 schnell); Qwen-Image 1-1024 (default 512)" };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
    public Option<bool> NoMemoryCheck { get; } = new("--no-memory-check")
    {
        Description = "Load the model even when the start-up check finds too little memory for it (swap or overcommit on purpose)",
    };

    public Option<string> DType { get; } = new("--dtype")
    {
        Description = "auto (bfloat16 on CUDA and on CPUs with native bfloat16, else float32), float32, bfloat16 or float16 (CUDA only)",
        DefaultValueFactory = _ => defaultDType,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Device);
        command.Options.Add(DType);
        command.Options.Add(MaxSequenceLength);
        command.Options.Add(TextEncoderDevice);
        command.Options.Add(NoMemoryCheck);
    }

    public EngineOptions EngineOptions(ParseResult result) =>
        new()
        {
            Device = result.GetValue(Device)!,
            DType = result.GetValue(DType)!,
            MaxSequenceLength = result.GetValue(MaxSequenceLength),
            TextEncoderDevice = result.GetValue(TextEncoderDevice)!,
            CheckMemory = !result.GetValue(NoMemoryCheck),
        };

    /// <summary>Whatever model the folder holds (glance-mini, FLUX.1, Qwen-Image).</summary>
    public DiffusionModel Load(ParseResult result) =>
        ModelLoader.Load(ModelLocator.Resolve(result.GetValue(Model)!), EngineOptions(result));

    /// <summary>A FLUX-family model (our own folders, FLUX.1), for the commands that train or benchmark its modules.</summary>
    public GlanceModel LoadFluxFamily(ParseResult result)
    {
        string folder = ModelLocator.Resolve(result.GetValue(Model)!);
        var options = EngineOptions(result);
        // The same start-up memory check as ModelLoader.Load, which this path does not go through.
        if (options.CheckMemory) ModelLoader.CheckMemory(folder, options);
        return GlanceModel.Load(folder, options);
    }
}
