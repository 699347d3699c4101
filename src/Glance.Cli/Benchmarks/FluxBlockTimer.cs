using Glance.Engine.Latents;
using Glance.Engine.Models.Flux;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>Median milliseconds of one double-stream and one single-stream block forward.</summary>
public sealed record BlockTimes(double DoubleMs, double SingleMs);

/// <summary>
/// <see cref="FluxConfig.Depth"/> double-stream and <see cref="FluxConfig.DepthSingleBlocks"/> single-stream blocks
/// of a FLUX.1 transformer, built with random weights directly in the target dtype (timing does not depend on the
/// values), timed one block forward at a time on inputs of the shapes a real step feeds them.
/// </summary>
public sealed class FluxBlockTimer : IDisposable
{
    const int PixelsPerLatent = 8;

    readonly FluxConfig _config;
    readonly ScalarType _dtype;
    readonly Device _device;
    readonly DoubleStreamBlock[] _doubleBlocks;
    readonly SingleStreamBlock[] _singleBlocks;

    public FluxBlockTimer(FluxConfig config, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config.Validate();
        _dtype = dtype;
        _device = device;
        _doubleBlocks = [.. Enumerable.Range(0, config.Depth).Select(_ => new DoubleStreamBlock(config, dtype, device))];
        _singleBlocks = [.. Enumerable.Range(0, config.DepthSingleBlocks).Select(_ => new SingleStreamBlock(config, dtype, device))];
    }

    /// <summary>Image tokens of a square image: one per 2x2 patch of the 1/8-scale latent, (size / 16)^2.</summary>
    public static long ImageTokens(int imageSize) => (long)(imageSize / (2 * PixelsPerLatent)) * (imageSize / (2 * PixelsPerLatent));

    /// <summary>
    /// Every block runs <paramref name="warmup"/> + <paramref name="iterations"/> times under inference_mode on the same
    /// random inputs (outputs are not chained, so the values cannot drift towards overflow over the blocks); the
    /// medians are over the timed runs of all blocks of a kind.
    /// </summary>
    /// <param name="imageSize">Square image side in pixels, a multiple of 16.</param>
    public BlockTimes Time(int batch, int imageSize, int textTokens, int warmup, int iterations)
    {
        if (imageSize <= 0 || imageSize % (2 * PixelsPerLatent) != 0)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"expected a positive multiple of {2 * PixelsPerLatent} pixels");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        long latentSide = imageSize / PixelsPerLatent, hidden = _config.HiddenSize;
        // Positions as a step computes them: text tokens at the origin, then the image tokens' (0, row, col).
        var ids = cat([LatentPacking.TextIds(textTokens, _device), LatentPacking.ImageIds(latentSide, latentSide, _device)], 1);
        var rope = Rope.Angles(ids, _config.AxesDim, _config.Theta);
        var img = randn([batch, ImageTokens(imageSize), hidden], dtype: _dtype, device: _device);
        var txt = randn([batch, textTokens, hidden], dtype: _dtype, device: _device);
        var joint = cat([txt, img], 1);
        var vec = randn([batch, hidden], dtype: _dtype, device: _device);

        var doubleMs = new List<double>();
        var singleMs = new List<double>();
        for (int i = 0; i < warmup + iterations; i++)
        {
            foreach (var block in _doubleBlocks)
            {
                double ms = BenchClock.Milliseconds(_device, () =>
                {
                    var (imgOut, txtOut) = block.Forward(img, txt, vec, rope);
                    return [imgOut, txtOut];
                });
                if (i >= warmup) doubleMs.Add(ms);
            }
            foreach (var block in _singleBlocks)
            {
                double ms = BenchClock.Milliseconds(_device, () => [block.Forward(joint, vec, rope)]);
                if (i >= warmup) singleMs.Add(ms);
            }
        }
        return new BlockTimes(
            doubleMs.Count > 0 ? BenchClock.Median(doubleMs) : double.NaN,
            singleMs.Count > 0 ? BenchClock.Median(singleMs) : double.NaN);
    }

    public void Dispose()
    {
        foreach (var block in _doubleBlocks) block.Dispose();
        foreach (var block in _singleBlocks) block.Dispose();
    }
}
