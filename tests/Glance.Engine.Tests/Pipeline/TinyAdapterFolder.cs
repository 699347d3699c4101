using Glance.Engine.Lora;
using Glance.Engine.Runtime;
using static TorchSharp.torch;

namespace Glance.Engine.Tests.Pipeline;

/// <summary>A temporary folder of adapter files for the tiny model, deleted on dispose.</summary>
internal sealed class TinyAdapterFolder : IDisposable
{
    public TinyAdapterFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "glance-adapter-sets-" + Guid.NewGuid().ToString("N"));

    /// <summary>A set's phase file: a rank-4 PEFT adapter on the tiny model's broad targets with weights drawn from the seed.</summary>
    public string Write(string name, string phase, long seed)
    {
        using var donor = TinyModels.Create(withAdapters: false);
        foreach (var p in donor.AddTrainableAdapter(phase, Glance.Engine.Training.LoraTargetSets.BroadTargets(donor.Config.Transformer), rank: 4, alpha: 4, seed: seed))
            p.requires_grad = false;
        using (var noGrad = no_grad())
        using (var generator = new Generator((ulong)seed, CPU))
        {
            foreach (var layer in LoraLayers.Of(donor.Transformer).Values)
            {
                foreach (var piece in layer.PiecesOf(phase))
                {
                    using var values = randn(piece.Up.shape, generator: generator);
                    using var scaled = values.Times(0.3);
                    piece.Up.copy_(scaled);
                }
            }
        }
        string path = System.IO.Path.Combine(Path, $"{name}-{phase}.safetensors");
        LoraFile.WritePeft(donor.Transformer, phase, path);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
