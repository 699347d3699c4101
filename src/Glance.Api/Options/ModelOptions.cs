namespace Glance.Api.Options;

/// <summary>
/// Which model and adapters the engine loads, by configured name and path; requests never name files.
/// Checked by the engine loader when the engine starts.
/// </summary>
internal sealed class ModelOptions
{
    public const string Section = "Glance:Model";

    /// <summary>Name reported to clients and accepted as the OpenAI "model" field.</summary>
    public string Name { get; set; } = "flux-glance";

    /// <summary>Directory or file of the base model weights.</summary>
    public string? Path { get; set; }

    /// <summary>Adapter name (e.g. "slow", "fast") to its weights file.</summary>
    public IDictionary<string, string> Adapters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>"auto", "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; set; } = "auto";

    /// <summary>"float32", "bfloat16" or "float16".</summary>
    public string DType { get; set; } = "float32";
}
