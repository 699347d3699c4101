using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;

namespace Glance.Engine.Pipeline;

/// <summary>Loads whatever model a folder holds: an unmodified FLUX.1 or Qwen-Image snapshot, or our own model folder.</summary>
public static class ModelLoader
{
    /// <param name="adapterScale">The scale for the adapters of our own folder's adapters/ (null: each file's alpha / rank).</param>
    public static DiffusionModel Load(string folder, EngineOptions options, double? adapterScale = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        return SnapshotFolder.PipelineClassOf(folder) == QwenImageSnapshot.PipelineClass
            ? QwenImageLoading.Load(QwenImageSnapshot.Open(folder), options)
            : GlanceModel.Load(folder, options, adapterScale);
    }
}
