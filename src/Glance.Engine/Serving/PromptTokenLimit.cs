namespace Glance.Engine.Serving;

/// <summary>A text encoder and the prompt tokens it reads; a longer prompt is cut to that many (and reported as a <see cref="PromptTruncation"/>).</summary>
/// <param name="Encoder">"t5", "clip" or "qwen2.5-vl", as truncations name it.</param>
public sealed record PromptTokenLimit(string Encoder, int Tokens);
