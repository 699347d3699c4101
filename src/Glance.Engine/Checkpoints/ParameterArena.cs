using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// Moves a CPU module's small tensors (under 2 MiB: biases, norms, the VAE's and CLIP's many small weights) into one
/// storage per dtype before a load overwrites them, each tensor becoming a view into it. libtorch backs only CPU
/// allocations of 2 MiB and more with transparent huge pages, so each small tensor is otherwise its own 4 KiB-page
/// allocation whose every page is a first-touch fault when the load writes it (on the VM measured, reading the ~80 MB of
/// small tensors of a FLUX-shaped snapshot took 0.3-0.4 s that way, 0.04-0.3 s in one storage: docs/loading.md). One
/// large storage is one huge-page allocation. Values are not kept: only for tensors that a load then writes in full.
/// </summary>
public static class ParameterArena
{
    /// <summary>libtorch's huge-page threshold: tensors at least this large already get huge pages of their own.</summary>
    public const long SmallTensorBytes = 2L * 1024 * 1024;

    /// <summary>Each view starts on a 64-byte boundary of the storage, as libtorch aligns its own allocations.</summary>
    const long Alignment = 64;

    /// <summary>Rebinds the small, contiguous CPU tensors among <paramref name="tensors"/> to views of one new storage per dtype; returns how many moved.</summary>
    /// <remarks>A tensor reached under two names (a tied weight) is moved once; tensors on another device are left as they are.</remarks>
    public static int Pack(IEnumerable<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var seen = new HashSet<IntPtr>();
        var small = tensors
            .Where(t => t.device_type == DeviceType.CPU && t.is_contiguous() && t.numel() > 0 && Bytes(t) < SmallTensorBytes && seen.Add(t.Handle))
            .GroupBy(t => t.dtype)
            .ToArray();
        int moved = 0;
        using var guard = no_grad();
        foreach (var group in small)
        {
            var members = group.ToArray();
            if (members.Length < 2) continue;
            long elementSize = members[0].element_size();
            long alignElements = Math.Max(1, Alignment / elementSize);
            var offsets = new long[members.Length];
            long total = 0;
            for (int i = 0; i < members.Length; i++)
            {
                offsets[i] = total;
                total += (members[i].numel() + alignElements - 1) / alignElements * alignElements;
            }
            using var storage = empty(total, dtype: group.Key);
            for (int i = 0; i < members.Length; i++)
            {
                using var view = storage.narrow(0, offsets[i], members[i].numel()).view(members[i].shape);
                members[i].set_(view);
                moved++;
            }
        }
        return moved;
    }

    static long Bytes(Tensor t) => t.numel() * t.element_size();
}
