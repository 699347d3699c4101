using Glance.Api.Options;
using Glance.Api.Telemetry;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Glance.Api.Engine;

/// <summary>
/// The production engine factory: loads the model folder named by <see cref="ModelOptions"/> (a configured
/// path, else the shipped model of that name), attaches configured extra adapters, and wraps it in the
/// TorchSharp step engine, whose adapters stay on the device within <see cref="AdapterOptions.MaxResidentMiB"/>.
/// Called on the engine thread, which then owns every tensor of the model. The loader first checks the model against
/// the memory each device has left (unless Glance:Model:CheckMemory is false).
/// </summary>
/// <param name="memory">Where that check reads what is left: this machine's /proc and cgroup files unless a test registers another source.</param>
/// <param name="logger">Told the check's outcome (and adapter budget overruns); none when null.</param>
internal sealed class TorchEngineFactory(
    IOptions<ModelOptions> model,
    IOptions<AdapterOptions>? adapters = null,
    EngineAdapterResidency? residency = null,
    IMemoryAvailability? memory = null,
    ILogger<TorchEngineFactory>? logger = null) : IEngineFactory
{
    public IGlanceEngine Create()
    {
        ModelOptions options = model.Value;
        // Before the first convolution (the precision check and warm-up run some): no NNPACK warnings on CPUs without it.
        Nnpack.Disable();
        if (options.Threads is { } threads) TorchSharp.torch.set_num_threads(threads);
        string folder = ModelLocator.Resolve(options.Path ?? options.Name);
        var engineOptions = new EngineOptions
        {
            Device = options.Device,
            DType = options.DType,
            MaxSequenceLength = options.MaxSequenceLength,
            TextEncoderDevice = options.TextEncoderDevice,
            TextEncoderDType = options.TextEncoderDType,
            PromptCacheEntries = options.PromptCacheEntries,
            PromptCacheMiB = options.PromptCacheMiB,
            MaxResidentAdapterMiB = adapters?.Value.MaxResidentMiB,
            CheckMemory = options.CheckMemory,
        };
        var glance = ModelLoader.Load(folder, engineOptions, options.AdapterScale, memory ?? SystemMemory.Host, outcome => Log.MemoryChecked(logger ?? NullLogger<TorchEngineFactory>.Instance, outcome));
        try
        {
            // Configuration keys are case-insensitive (Adapters:Slow binds as "Slow"); the Glance plan names its phases' adapters in lower case.
            foreach (var (name, path) in options.Adapters) glance.AttachAdapter(name.ToLowerInvariant(), path, options.AdapterScale, options.AdapterScaleWithoutAlpha);
            var engine = new TorchGlanceEngine(glance, options: engineOptions);
            if (logger is not null)
                engine.AdapterResidency.BudgetExceeded += (_, e) => Log.AdapterBudgetExceeded(logger, e.NeededBytes / 1048576.0, e.BudgetBytes / 1048576.0);
            if (residency is not null) residency.Counters = engine.AdapterResidency;
            return engine;
        }
        catch
        {
            glance.Dispose();
            throw;
        }
    }
}
