using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Tests;

/// <summary>Writes small adapter files for tests into a per-test temporary folder.</summary>
internal sealed class LoraTestFiles : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), "glance-lora-tests", Guid.NewGuid().ToString("N"));

    public LoraTestFiles() => Directory.CreateDirectory(_folder);

    public string PathFor(string name) => Path.Combine(_folder, name);

    /// <summary>Writes tensors (given as key, tensor pairs) and metadata to a new file; returns its path.</summary>
    public string Write(string name, IReadOnlyDictionary<string, string>? metadata, params (string Key, Tensor Tensor)[] tensors)
    {
        string path = PathFor(name);
        SafetensorsFile.Write(path, tensors.Select(t => new KeyValuePair<string, Tensor>(t.Key, t.Tensor)).ToList(), metadata);
        return path;
    }

    /// <summary>A random [rank, in] down and [out, rank] up pair, of the size a trained adapter has.</summary>
    public static (Tensor Down, Tensor Up) RandomPair(long rank, long inFeatures, long outFeatures) =>
        (randn(rank, inFeatures) / Math.Sqrt(inFeatures), randn(outFeatures, rank) * 0.1);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Leftover temp files are harmless.
        }
    }
}
