using Glance.Engine.Imaging;
using Glance.Mini.World;
using static TorchSharp.torch;

namespace Glance.Mini.Training;

/// <summary>Batches of rendered training scenes (images in [-1, 1] and captions) drawn reproducibly from a seed.</summary>
public sealed class MiniWorldBatches(ulong seed, int imageSize)
{
    readonly SceneSampler _sampler = new(seed, SceneSplit.Train);

    public int ImageSize { get; } = imageSize;

    /// <summary>Scenes with these indices: images [B, 3, S, S] float32 on the CPU, and their captions.</summary>
    public (Tensor Images, string[] Captions) Get(IReadOnlyList<long> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int pixels = 3 * ImageSize * ImageSize;
        var values = new float[indices.Count * pixels];
        var captions = new string[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            var scene = _sampler.Sample(indices[i]);
            PixelArrays.ToSignedUnitChw(SceneRenderer.Render(scene, ImageSize)).CopyTo(values, i * pixels);
            captions[i] = scene.Caption;
        }
        return (tensor(values, [indices.Count, 3, ImageSize, ImageSize]), captions);
    }
}
