namespace Glance.Engine.Text;

/// <summary>Turns a prompt into token ids for a text encoder; <see cref="Encode"/> ends every sequence with EOS.</summary>
public interface ITextTokenizer
{
    int PadId { get; }
    int EosId { get; }

    /// <summary>One more than the largest id this tokenizer can produce.</summary>
    int VocabSize { get; }

    IReadOnlyList<int> Encode(string text);
}
