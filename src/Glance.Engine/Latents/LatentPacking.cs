using Glance.Engine.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Latents;

/// <summary>
/// FLUX token layout of VAE latents: each 2x2 patch of a [B, C, H, W] latent becomes one token of C * 4
/// features (index c * 4 + ph * 2 + pw), tokens in row-major order over the (H / 2) x (W / 2) grid.
/// </summary>
public static class LatentPacking
{
    const int Patch = 2;

    /// <summary>[B, C, H, W] -> [B, (H / 2) * (W / 2), C * 4].</summary>
    public static Tensor Pack(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        if (latents.dim() != 4)
            throw new ArgumentException($"Latents have shape [{string.Join(", ", latents.shape)}]; expected [B, C, H, W].", nameof(latents));
        long b = latents.shape[0], c = latents.shape[1], h = latents.shape[2], w = latents.shape[3];
        RequireEven(h, w);
        using var patches = latents.view(b, c, h / Patch, Patch, w / Patch, Patch).permute(0, 2, 4, 1, 3, 5);
        return patches.reshape(b, h / Patch * (w / Patch), c * Patch * Patch);
    }

    /// <summary>[B, (H / 2) * (W / 2), C * 4] -> [B, C, H, W] for a latent of height H and width W.</summary>
    public static Tensor Unpack(Tensor tokens, long latentHeight, long latentWidth)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        RequireEven(latentHeight, latentWidth);
        long rows = latentHeight / Patch, cols = latentWidth / Patch;
        if (tokens.dim() != 3 || tokens.shape[1] != rows * cols || tokens.shape[2] % (Patch * Patch) != 0)
            throw new ArgumentException(
                $"Packed latents have shape [{string.Join(", ", tokens.shape)}]; expected [B, {rows * cols}, C * 4] for a {latentHeight}x{latentWidth} latent.",
                nameof(tokens));
        long b = tokens.shape[0], c = tokens.shape[2] / (Patch * Patch);
        using var patches = tokens.view(b, rows, cols, c, Patch, Patch).permute(0, 3, 1, 4, 2, 5);
        return patches.reshape(b, c, latentHeight, latentWidth);
    }

    /// <summary>RoPE positions of the packed image tokens: [1, L, 3] float32 holding (0, row, col) on the (H / 2) x (W / 2) grid.</summary>
    public static Tensor ImageIds(long latentHeight, long latentWidth, Device? device = null)
    {
        RequireEven(latentHeight, latentWidth);
        long rows = latentHeight / Patch, cols = latentWidth / Patch;
        using var scope = NewDisposeScope();
        var row = TensorArithmetic.IntegerRange(0, rows, ScalarType.Float32, device).view(rows, 1).expand(rows, cols);
        var col = TensorArithmetic.IntegerRange(0, cols, ScalarType.Float32, device).view(1, cols).expand(rows, cols);
        var ids = stack([zeros(rows, cols, dtype: ScalarType.Float32, device: device), row, col], -1);
        return scope.MoveToOuter(ids.reshape(1, rows * cols, 3));
    }

    /// <summary>RoPE positions of the text tokens: FLUX.1 puts them all at the origin, [1, L, 3] zeros.</summary>
    public static Tensor TextIds(long length, Device? device = null)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), length, "expected a positive number of text tokens");
        return zeros(1, length, 3, dtype: ScalarType.Float32, device: device);
    }

    static void RequireEven(long height, long width)
    {
        if (height <= 0 || width <= 0 || height % Patch != 0 || width % Patch != 0)
            throw new ArgumentException($"Latent size is {height}x{width}; expected positive even height and width (2x2 patches).");
    }
}
