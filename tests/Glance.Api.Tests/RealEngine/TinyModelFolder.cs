using Glance.Engine.Lora;
using Glance.Engine.Pipeline;
using Glance.Engine.Sampling;
using Glance.Engine.Text;
using static TorchSharp.torch;

namespace Glance.Api.Tests.RealEngine;

/// <summary>A model folder with a randomly initialised tiny model and Slow/Fast adapters, written once per test class.</summary>
public sealed class TinyModelFolder : IDisposable
{
    public TinyModelFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-api-tiny-" + Guid.NewGuid().ToString("N"));
        using var model = GlanceModel.Create(GlanceModelPresets.Tiny, WordTokenizer.Build(["a red circle on a gray background"]), CPU, ScalarType.Float32, seed: 5);
        Glance.Engine.Tests.SeededWeights.Redraw(model.Transformer, seed: 5);
        Glance.Engine.Tests.SeededWeights.Redraw(model.Autoencoder, seed: 6);
        Glance.Engine.Tests.SeededWeights.Redraw(model.TextEncoder, seed: 7);
        model.Save(Path);
        string adapters = System.IO.Path.Combine(Path, GlanceModel.AdaptersFolder);
        Directory.CreateDirectory(adapters);
        foreach (string phase in new[] { PlanBuilder.SlowPhase, PlanBuilder.FastPhase })
        {
            model.AddTrainableAdapter(phase, Glance.Engine.Training.LoraTargetSets.BroadTargets(model.Config.Transformer), rank: 2, alpha: 2, seed: 1);
            LoraFile.WritePeft(model.Transformer, phase, System.IO.Path.Combine(adapters, phase + ".safetensors"));
        }
    }

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
