using Glance.Api.Options;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Engine;

/// <summary>
/// The production engine factory: loads the model folder named by <see cref="ModelOptions"/> (a configured
/// path, else the shipped model of that name), attaches configured extra adapters, and wraps it in the
/// TorchSharp step engine. Called on the engine thread, which then owns every tensor of the model.
/// </summary>
internal sealed class TorchEngineFactory(IOptions<ModelOptions> model) : IEngineFactory
{
    public IGlanceEngine Create()
    {
        ModelOptions options = model.Value;
        if (options.Threads is { } threads) TorchSharp.torch.set_num_threads(threads);
        string folder = ModelLocator.Resolve(options.Path ?? options.Name);
        var glance = GlanceModel.Load(folder, new EngineOptions { Device = options.Device, DType = options.DType }, options.AdapterScale);
        try
        {
            foreach (var (name, path) in options.Adapters) glance.AttachAdapter(name, path, options.AdapterScale);
            return new TorchGlanceEngine(glance);
        }
        catch
        {
            glance.Dispose();
            throw;
        }
    }
}
