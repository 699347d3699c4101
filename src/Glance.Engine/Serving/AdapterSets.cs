using System.Text.RegularExpressions;

namespace Glance.Engine.Serving;

/// <summary>
/// An adapter set: a named Slow + Fast pair of LoRA files for the loaded model (either phase may be absent; that phase
/// then runs on the base weights). The configured Slow/Fast adapters are the set named <see cref="Default"/>.
/// </summary>
public static partial class AdapterSets
{
    public const string Default = "default";

    /// <summary>Set names: lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters.</summary>
    public const string NamePattern = "^[a-z0-9][a-z0-9_-]{0,63}$";

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    /// <summary>Whether a name can name a set (no path separators, no dots, nothing a file system treats specially).</summary>
    public static bool IsValidName(string? name) => name is not null && NameRegex().IsMatch(name);

    /// <summary>The name the model's adapter of one phase of a set carries: the default set keeps the bare phase names.</summary>
    public static string AdapterName(string set, string phase)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(phase);
        return set == Default ? phase : $"{set}/{phase}";
    }
}

/// <summary>The files of one set, as a registry found them; <see cref="Fingerprint"/> changes when a file does.</summary>
public sealed record AdapterSetFiles(string Name, string? SlowPath, string? FastPath, string Fingerprint);

/// <summary>One phase of an attached set: its file, where it landed and the scale applied.</summary>
public sealed record AdapterPhaseInfo(string Phase, string File, int Modules, IReadOnlyList<long> Ranks, IReadOnlyList<double> Scales, long Bytes);

/// <summary>An attached set as clients see it.</summary>
public sealed record AdapterSetInfo(string Name, IReadOnlyList<AdapterPhaseInfo> Phases, string? Fingerprint)
{
    /// <summary>Where the set's adapters are now; null when the engine does not say.</summary>
    public AdapterResidencyInfo? Residency { get; init; }
}

/// <summary>Whether every adapter of a set is on the model's device (else some wait in host memory), and their bytes.</summary>
public sealed record AdapterResidencyInfo(bool Resident, long Bytes);
