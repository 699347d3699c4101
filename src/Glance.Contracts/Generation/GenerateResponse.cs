namespace Glance.Contracts.Generation;

/// <summary>A generated image with the seed that produced it and where its time went.</summary>
/// <param name="Image">The PNG file, base64-encoded.</param>
/// <param name="Seed">The seed used (the drawn one when the request gave none).</param>
/// <param name="Timings">Milliseconds per stage: queue, encode, each phase of the plan (slow, fast or base), decode, png, total.</param>
/// <param name="Adapters">The adapter set the request used (also in the X-Glance-Adapters header).</param>
/// <param name="PromptTruncated">The text encoders that cut the prompt (absent when it fitted), also in the X-Glance-Prompt-Truncated header.</param>
public sealed record GenerateResponse(
    string Image,
    long Seed,
    int Width,
    int Height,
    string Mode,
    IReadOnlyDictionary<string, double> Timings,
    IReadOnlyList<PromptTruncationInfo>? PromptTruncated = null,
    string? Adapters = null);
