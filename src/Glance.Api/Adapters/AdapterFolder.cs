using System.Globalization;
using Glance.Engine.Serving;

namespace Glance.Api.Adapters;

/// <summary>
/// Reads the registry folder: each subfolder whose name is a valid set name and that holds slow.safetensors and/or
/// fast.safetensors is a set; its fingerprint is the files' sizes and modification times, so a replaced file is noticed.
/// Anything else (dot-folders used while writing, stray files, invalid names) is ignored.
/// </summary>
internal static class AdapterFolder
{
    public const string SlowFile = "slow.safetensors";
    public const string FastFile = "fast.safetensors";

    public static IReadOnlyList<AdapterSetFiles> Scan(string root)
    {
        if (!Directory.Exists(root)) return [];
        var sets = new List<AdapterSetFiles>();
        foreach (string folder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(folder);
            if (!AdapterSets.IsValidName(name) || name == AdapterSets.Default) continue;
            var slow = new FileInfo(Path.Combine(folder, SlowFile));
            var fast = new FileInfo(Path.Combine(folder, FastFile));
            if (!slow.Exists && !fast.Exists) continue;
            sets.Add(new AdapterSetFiles(name, slow.Exists ? slow.FullName : null, fast.Exists ? fast.FullName : null, Fingerprint(slow, fast)));
        }
        return sets;
    }

    static string Fingerprint(params FileInfo[] files) => string.Join(";", files.Select(f => f.Exists
        ? string.Create(CultureInfo.InvariantCulture, $"{f.Name}:{f.Length}:{f.LastWriteTimeUtc.Ticks}")
        : $"{f.Name}:-"));
}
