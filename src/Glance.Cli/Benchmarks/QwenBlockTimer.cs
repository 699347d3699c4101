using Glance.Engine.Models.Qwen;
using static TorchSharp.torch;

namespace Glance.Cli.Benchmarks;

/// <summary>Median milliseconds of one Qwen-Image block forward, and of the transformer's forward without blocks (the rest of a step).</summary>
public sealed record QwenBlockTimes(double BlockMs, double RestMs);

/// <summary>
/// <see cref="QwenImageConfig.NumLayers"/> Qwen-Image dual-stream blocks at the config's width with random weights built
/// in the target dtype, and the same transformer with no blocks (input projections, timestep embedding, RoPE angles,
/// output norm and projection), timed one forward at a time on inputs of the shapes a real step feeds them.
/// </summary>
public sealed class QwenBlockTimer : IDisposable
{
    /// <summary>The VAE's 8x downsampling times the 2x2 patch: one image token per 16x16 pixels.</summary>
    const int PixelsPerToken = 16;

    readonly QwenImageConfig _config;
    readonly ScalarType _dtype;
    readonly Device _device;
    readonly QwenImageTransformerBlock[] _blocks;
    readonly QwenImageTransformer _rest;

    public QwenBlockTimer(QwenImageConfig config, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config.Validate();
        _dtype = dtype;
        _device = device;
        _blocks = [.. Enumerable.Range(0, config.NumLayers).Select(_ => new QwenImageTransformerBlock(config, dtype, device))];
        _rest = new QwenImageTransformer(config with { NumLayers = 0 }, dtype, device);
        _rest.eval();
    }

    /// <summary>Image tokens of a square image: (size / 16)^2.</summary>
    public static long ImageTokens(int imageSize) => (long)(imageSize / PixelsPerToken) * (imageSize / PixelsPerToken);

    /// <summary>
    /// Every block and the block-less transformer run <paramref name="warmup"/> + <paramref name="iterations"/> times under
    /// inference_mode on the same random inputs (outputs are not chained); medians over the timed runs. Text tokens carry
    /// no mask (prompts of one length), so attention runs unmasked as for a single prompt.
    /// </summary>
    public QwenBlockTimes Time(int batch, int imageSize, int textTokens, int warmup, int iterations)
    {
        if (imageSize <= 0 || imageSize % PixelsPerToken != 0)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"expected a positive multiple of {PixelsPerToken} pixels");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        int grid = imageSize / PixelsPerToken;
        long width = _config.InnerDim;
        using var rope = QwenImagePositions.Angles(textTokens, grid, grid, _config.AxesDimsRope, _config.Theta, _device);
        var img = randn([batch, ImageTokens(imageSize), width], dtype: _dtype, device: _device);
        var txt = randn([batch, textTokens, width], dtype: _dtype, device: _device);
        var temb = randn([batch, width], dtype: _dtype, device: _device);
        var packed = randn([batch, ImageTokens(imageSize), _config.InChannels], dtype: _dtype, device: _device);
        var features = randn([batch, textTokens, _config.JointAttentionDim], dtype: _dtype, device: _device);
        var sigmas = rand([batch], device: _device);

        var blockMs = new List<double>();
        var restMs = new List<double>();
        for (int i = 0; i < warmup + iterations; i++)
        {
            foreach (var block in _blocks)
            {
                double ms = BenchClock.Milliseconds(_device, () =>
                {
                    var (imgOut, txtOut) = block.Forward(img, txt, temb, null, rope);
                    return [imgOut, txtOut];
                });
                if (i >= warmup) blockMs.Add(ms);
            }
            double rest = BenchClock.Milliseconds(_device, () => [_rest.Forward(packed, features, null, sigmas, grid, grid)]);
            if (i >= warmup) restMs.Add(rest);
        }
        return new QwenBlockTimes(blockMs.Count > 0 ? BenchClock.Median(blockMs) : double.NaN, BenchClock.Median(restMs));
    }

    public void Dispose()
    {
        foreach (var block in _blocks) block.Dispose();
        _rest.Dispose();
    }
}
