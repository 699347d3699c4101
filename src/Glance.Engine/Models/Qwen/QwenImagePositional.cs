using Glance.Engine.Models.Flux;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Qwen-Image's RoPE positions (diffusers QwenEmbedRope with scale_rope = true, as QwenImageTransformer2DModel always
/// builds it): a single image is frame 0, its token grid centred, row r at r - ceil(h / 2) and column c at
/// c - ceil(w / 2); text token j sits at max(h / 2, w / 2) + j (floor division) on all three axes, after the image's
/// largest positive position. Each axis then rotates its own interleaved feature pairs, as FLUX's RoPE does.
/// </summary>
internal static class QwenImagePositions
{
    /// <summary>[T + L, 3] positions (frame, row, column): the text tokens, then the image tokens row by row.</summary>
    public static double[,] Of(long textLength, int gridHeight, int gridWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(textLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gridWidth);
        long imageTokens = (long)gridHeight * gridWidth;
        var positions = new double[textLength + imageTokens, 3];
        int textStart = Math.Max(gridHeight / 2, gridWidth / 2);
        for (long j = 0; j < textLength; j++)
        {
            for (int axis = 0; axis < 3; axis++) positions[j, axis] = textStart + j;
        }
        // The negative side takes the extra row of an odd size: h = 3 gives rows -2, -1, 0.
        int rowOrigin = gridHeight - gridHeight / 2, columnOrigin = gridWidth - gridWidth / 2;
        for (int r = 0; r < gridHeight; r++)
        {
            for (int c = 0; c < gridWidth; c++)
            {
                long token = textLength + (long)r * gridWidth + c;
                positions[token, 0] = 0;
                positions[token, 1] = r - rowOrigin;
                positions[token, 2] = c - columnOrigin;
            }
        }
        return positions;
    }

    /// <summary>Rotations for the joint sequence [text, image], shaped to broadcast over batch and heads.</summary>
    public static RopeAngles Angles(long textLength, int gridHeight, int gridWidth, IReadOnlyList<int> axesDim, double theta, Device device)
    {
        using var ids = tensor(Of(textLength, gridHeight, gridWidth), dtype: ScalarType.Float64, device: device);
        using var batched = ids.unsqueeze(0);
        return Rope.Angles(batched, axesDim, theta);
    }
}
