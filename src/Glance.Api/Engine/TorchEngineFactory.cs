using Glance.Api.Options;
using Glance.Engine.Serving;
using Microsoft.Extensions.Options;

namespace Glance.Api.Engine;

/// <summary>The production engine factory: loads the TorchSharp engine described by <see cref="ModelOptions"/>.</summary>
internal sealed class TorchEngineFactory(IOptions<ModelOptions> model) : IEngineFactory
{
    public IGlanceEngine Create()
    {
        // Replaced by a call to Glance.Engine.Serving.EngineLoader.Load(...) once the engine loader exists.
        ModelOptions options = model.Value;
        throw new NotSupportedException(
            $"The TorchSharp engine loader is not available in this build, so model '{options.Name}' " +
            $"(path '{options.Path ?? "<not configured>"}', device '{options.Device}', dtype '{options.DType}') cannot be loaded.");
    }
}
