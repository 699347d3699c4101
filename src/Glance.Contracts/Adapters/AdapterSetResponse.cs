namespace Glance.Contracts.Adapters;

/// <summary>One phase's adapter file of a set.</summary>
/// <param name="Phase">"slow" or "fast".</param>
/// <param name="File">The file's name ("" for an adapter trained in the process).</param>
/// <param name="Modules">Adapted modules (a fused layer adapted by several file modules counts each).</param>
/// <param name="Ranks">The ranks found (usually one).</param>
/// <param name="Scales">The LoRA scales applied (alpha / rank, or the configured scale for files without alpha).</param>
/// <param name="Bytes">The file's size.</param>
public sealed record AdapterPhaseResponse(string Phase, string File, int Modules, IReadOnlyList<long> Ranks, IReadOnlyList<double> Scales, long Bytes);

/// <summary>An adapter set requests can name in their "adapters" field.</summary>
/// <param name="Name">The set's name; "default" is the configured Slow/Fast pair.</param>
/// <param name="Phases">The phases it adapts; a phase it lacks runs on the base weights.</param>
/// <param name="Source">"configuration" for the default set, "registry" for a set from the shared adapter folder.</param>
/// <param name="Resident">Whether the set's adapters are on the model's device now; false: some wait in host memory
/// (Glance:Adapters:MaxResidentMiB) and the next step that uses them brings them back.</param>
public sealed record AdapterSetResponse(string Name, IReadOnlyList<AdapterPhaseResponse> Phases, string Source, bool Resident = true);

/// <summary>GET /v1/adapters: the sets attached, and sets of the registry folder that could not be attached, with why.</summary>
public sealed record AdapterSetListResponse(IReadOnlyList<AdapterSetResponse> Data, IReadOnlyDictionary<string, string> Failures);
