namespace Glance.Engine.Runtime;

/// <summary>Where and in what precision the engine runs.</summary>
public sealed record EngineOptions
{
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>"float32", "bfloat16" or "float16" (float16 only on CUDA).</summary>
    public string DType { get; init; } = "float32";
}
