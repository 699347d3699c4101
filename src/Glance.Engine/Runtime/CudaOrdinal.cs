using static TorchSharp.torch;

namespace Glance.Engine.Runtime;

/// <summary>A CUDA device's ordinal as libtorch and the CUDA driver number it (after CUDA_VISIBLE_DEVICES): cuda is cuda:0.</summary>
public static class CudaOrdinal
{
    public static int Of(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return (int)Math.Max(0, device.index);
    }

    /// <summary>0 for "cuda", N for "cuda:N" (a device name as options and engine descriptions write it), null for anything else.</summary>
    public static int? Parse(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        string name = device.Trim();
        if (name.Equals("cuda", StringComparison.OrdinalIgnoreCase)) return 0;
        return name.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase)
            && int.TryParse(name.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int ordinal) ? ordinal : null;
    }
}
