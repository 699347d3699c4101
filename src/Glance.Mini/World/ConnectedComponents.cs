namespace Glance.Mini.World;

/// <summary>8-connected labelling of a binary mask; labels are 1-based, 0 is background.</summary>
public sealed class ConnectedComponents
{
    public int[] Labels { get; }

    /// <summary>Pixel count of each component; index 0 is unused.</summary>
    public IReadOnlyList<int> Sizes { get; }

    ConnectedComponents(int[] labels, List<int> sizes)
    {
        Labels = labels;
        Sizes = sizes;
    }

    public static ConnectedComponents Label(bool[] mask, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Length != width * height)
            throw new ArgumentException($"Mask holds {mask.Length} entries; a {width}x{height} image needs {width * height}.", nameof(mask));
        var labels = new int[mask.Length];
        var sizes = new List<int> { 0 };
        var stack = new Stack<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || labels[start] != 0)
                continue;
            var label = sizes.Count;
            var count = 0;
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var at = stack.Pop();
                count++;
                int x = at % width, y = at / width;
                for (var dy = -1; dy <= 1; dy++)
                {
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= width || ny >= height)
                            continue;
                        var next = (ny * width) + nx;
                        if (mask[next] && labels[next] == 0)
                        {
                            labels[next] = label;
                            stack.Push(next);
                        }
                    }
                }
            }
            sizes.Add(count);
        }
        return new ConnectedComponents(labels, sizes);
    }

    /// <summary>Label of the biggest component, 0 if there is none.</summary>
    public int Largest()
    {
        var best = 0;
        for (var label = 1; label < Sizes.Count; label++)
        {
            if (Sizes[label] > (best == 0 ? 0 : Sizes[best]))
                best = label;
        }
        return best;
    }

    /// <summary>Size of the biggest component other than <paramref name="label"/>.</summary>
    public int LargestOtherThan(int label)
    {
        var best = 0;
        for (var other = 1; other < Sizes.Count; other++)
        {
            if (other != label)
                best = Math.Max(best, Sizes[other]);
        }
        return best;
    }
}
