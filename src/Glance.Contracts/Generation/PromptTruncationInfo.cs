namespace Glance.Contracts.Generation;

/// <summary>A text encoder cut a prompt: it saw <paramref name="Kept"/> of the prompt's <paramref name="Tokens"/> tokens.</summary>
/// <param name="Field">"prompt" or "negative_prompt".</param>
/// <param name="Encoder">"clip" (77 tokens in FLUX.1) or "t5".</param>
public sealed record PromptTruncationInfo(string Field, string Encoder, int Tokens, int Kept);
