namespace Glance.Engine.Serving;

/// <summary>
/// A prompt longer than a text encoder keeps: <paramref name="Tokens"/> tokens (special tokens included) of which
/// the encoder saw <paramref name="Kept"/>. <paramref name="Field"/> is "prompt" or "negative_prompt".
/// </summary>
public sealed record PromptTruncation(string Field, string Encoder, int Tokens, int Kept)
{
    public override string ToString() => $"{Field} {Encoder} {Kept}/{Tokens}";
}
