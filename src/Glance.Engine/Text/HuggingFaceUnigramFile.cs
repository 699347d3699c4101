using System.Text.Json;

namespace Glance.Engine.Text;

/// <summary>
/// Turns a Hugging Face tokenizers file (tokenizer.json) holding a SentencePiece unigram model, as T5's does, back
/// into the SentencePiece ModelProto it was converted from, so that Microsoft.ML.Tokenizers (which reads only the
/// proto) does the tokenisation. What is carried over:
/// <list type="bullet">
/// <item>model.vocab (pieces and scores, in id order) and model.unk_id. Pieces listed as special in added_tokens
/// (pad, eos, T5's extra ids) become control pieces, which SentencePiece never matches in text, as in spiece.model
/// where pad and eos are control pieces and the extra ids do not exist.</item>
/// <item>The normalizer: a Precompiled character map (the proto's precompiled_charsmap, e.g. NFKC), and the pair
/// Strip(right) + Replace(" {2,}"), which is how the converter writes remove_extra_whitespaces; an older layout says
/// the same with a WhitespaceSplit pre-tokenizer.</item>
/// <item>The Metaspace pre-tokenizer: "▁" for spaces, and add_dummy_prefix from prepend_scheme ("always"/"first")
/// or add_prefix_space.</item>
/// </list>
/// Anything else (another model type, byte fallback, other normalizers or pre-tokenizers) is refused, naming the file
/// and the field. The post-processor and decoder are not read: the T5 tokenizer appends EOS itself.
/// </summary>
static class HuggingFaceUnigramFile
{
    const string Underline = "\u2581";

    // SentencePiece.Type and TrainerSpec.ModelType values from sentencepiece_model.proto.
    const int NormalPiece = 1, UnknownPiece = 2, ControlPiece = 3, UnigramModel = 1;

    public static byte[] ToModelProto(string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' holds a JSON {root.ValueKind}; expected a tokenizers object.");
            var (pieces, unkId) = ReadModel(root, path);
            var special = SpecialIds(root, path);
            var (charsMap, stripAndCollapse) = ReadNormalizer(root, path);
            var (addDummyPrefix, whitespaceSplit) = ReadPreTokenizer(root, path);
            return Write(pieces, unkId, special, charsMap, stripAndCollapse || whitespaceSplit, addDummyPrefix, path);
        }
    }

    static (List<(string Piece, float Score)> Pieces, int UnkId) ReadModel(JsonElement root, string path)
    {
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{path}' has no \"model\" object; expected a tokenizers file.");
        string? type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type != "Unigram")
            throw new InvalidDataException($"'{path}': field \"model.type\" is {Shown(t)}; supported: \"Unigram\" (a SentencePiece unigram model, as T5's).");
        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
            throw new InvalidDataException($"'{path}': field \"model.byte_fallback\" is true; supported: false (T5's vocabulary has no byte pieces).");
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"'{path}': field \"model.vocab\" is missing or not an array of [piece, score] pairs.");

        var pieces = new List<(string, float)>(vocab.GetArrayLength());
        foreach (var entry in vocab.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2 || entry[0].ValueKind != JsonValueKind.String || entry[1].ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"'{path}': entry {pieces.Count} of \"model.vocab\" is {entry.GetRawText()}; expected [piece, score].");
            pieces.Add((entry[0].GetString()!, entry[1].GetSingle()));
        }
        if (!model.TryGetProperty("unk_id", out var unk) || unk.ValueKind != JsonValueKind.Number || !unk.TryGetInt32(out int unkId) || unkId < 0 || unkId >= pieces.Count)
            throw new InvalidDataException($"'{path}': field \"model.unk_id\" is {Shown(unk)}; expected the id of a piece in the {pieces.Count}-piece vocabulary.");
        return (pieces, unkId);
    }

    static HashSet<int> SpecialIds(JsonElement root, string path)
    {
        var ids = new HashSet<int>();
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return ids;
        if (added.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"'{path}': field \"added_tokens\" is a JSON {added.ValueKind}; expected an array.");
        foreach (var token in added.EnumerateArray())
        {
            if (token.TryGetProperty("special", out var special) && special.ValueKind == JsonValueKind.True
                && token.TryGetProperty("id", out var id) && id.TryGetInt32(out int value))
            {
                ids.Add(value);
            }
        }
        return ids;
    }

    static (byte[]? CharsMap, bool StripAndCollapse) ReadNormalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var normalizer) || normalizer.ValueKind == JsonValueKind.Null) return (null, false);
        var steps = Type(normalizer) == "Sequence" && normalizer.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToArray()
            : [normalizer];
        byte[]? charsMap = null;
        bool strip = false, collapse = false;
        foreach (var step in steps)
        {
            switch (Type(step))
            {
                case "Precompiled":
                    if (step.TryGetProperty("precompiled_charsmap", out var map) && map.ValueKind == JsonValueKind.String)
                        charsMap = Convert.FromBase64String(map.GetString()!);
                    break;
                case "Strip" when !Flag(step, "strip_left", false) && Flag(step, "strip_right", true):
                    strip = true;
                    break;
                case "Replace" when IsCollapseSpaces(step):
                    collapse = true;
                    break;
                default:
                    throw new InvalidDataException($"'{path}': normalizer step {step.GetRawText()} is not supported; supported: Precompiled, Strip (right only) and Replace of \" {{2,}}\" by one space, the steps a converted SentencePiece model uses.");
            }
        }
        if (strip != collapse)
            throw new InvalidDataException($"'{path}': the normalizer has {(strip ? "Strip without Replace(\" {2,}\")" : "Replace(\" {2,}\") without Strip")}; supported: both (SentencePiece's remove_extra_whitespaces) or neither.");
        return (charsMap, strip && collapse);
    }

    static bool IsCollapseSpaces(JsonElement step) =>
        step.TryGetProperty("pattern", out var pattern) && pattern.ValueKind == JsonValueKind.Object
        && pattern.TryGetProperty("Regex", out var regex) && regex.GetString() == " {2,}"
        && step.TryGetProperty("content", out var content) && content.GetString() is " " or Underline;

    static (bool AddDummyPrefix, bool WhitespaceSplit) ReadPreTokenizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null)
            throw new InvalidDataException($"'{path}' has no \"pre_tokenizer\"; supported: Metaspace (\"{Underline}\" for spaces), as a converted SentencePiece model has.");
        var steps = Type(pre) == "Sequence" && pre.TryGetProperty("pretokenizers", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().ToArray()
            : [pre];
        bool? addDummyPrefix = null;
        bool whitespaceSplit = false;
        foreach (var step in steps)
        {
            string? type = Type(step);
            if (type == "WhitespaceSplit")
            {
                whitespaceSplit = true;
            }
            else if (type == "Metaspace" && step.TryGetProperty("replacement", out var replacement) && replacement.GetString() == Underline)
            {
                addDummyPrefix = step.TryGetProperty("prepend_scheme", out var scheme) && scheme.ValueKind == JsonValueKind.String
                    ? scheme.GetString() switch
                    {
                        "always" or "first" => true,
                        "never" => false,
                        var other => throw new InvalidDataException($"'{path}': Metaspace prepend_scheme is \"{other}\"; supported: \"always\", \"first\" or \"never\"."),
                    }
                    : Flag(step, "add_prefix_space", true);
            }
            else
            {
                throw new InvalidDataException($"'{path}': pre-tokenizer step {step.GetRawText()} is not supported; supported: Metaspace with replacement \"{Underline}\", optionally after WhitespaceSplit.");
            }
        }
        return addDummyPrefix is { } prefix
            ? (prefix, whitespaceSplit)
            : throw new InvalidDataException($"'{path}': the pre-tokenizer has no Metaspace step; supported: Metaspace with replacement \"{Underline}\".");
    }

    static byte[] Write(List<(string Piece, float Score)> pieces, int unkId, HashSet<int> special, byte[]? charsMap, bool removeExtraWhitespaces, bool addDummyPrefix, string path)
    {
        int eosId = pieces.FindIndex(p => p.Piece == "</s>");
        if (eosId < 0) throw new InvalidDataException($"'{path}': the vocabulary has no \"</s>\" piece; T5 ends every sequence with it.");
        int padId = pieces.FindIndex(p => p.Piece == "<pad>");

        var model = new ProtobufWriter();
        for (int id = 0; id < pieces.Count; id++)
        {
            var piece = new ProtobufWriter();
            piece.String(1, pieces[id].Piece);
            piece.Float(2, pieces[id].Score);
            piece.Varint(3, id == unkId ? UnknownPiece : special.Contains(id) ? ControlPiece : NormalPiece);
            model.Message(1, piece);
        }

        var trainer = new ProtobufWriter();
        trainer.Varint(3, UnigramModel);
        trainer.Varint(4, pieces.Count);
        trainer.Varint(40, unkId);
        trainer.Varint(41, -1); // no BOS, as T5; SentencePieceBosPatch handles it on load
        trainer.Varint(42, eosId);
        trainer.Varint(43, padId);
        trainer.String(45, pieces[unkId].Piece);
        trainer.String(47, "</s>");
        if (padId >= 0) trainer.String(48, "<pad>");
        model.Message(2, trainer);

        var normalizer = new ProtobufWriter();
        normalizer.String(1, charsMap is null ? "identity" : "nmt_nfkc");
        if (charsMap is not null) normalizer.Bytes(2, charsMap);
        normalizer.Varint(3, addDummyPrefix ? 1 : 0);
        normalizer.Varint(4, removeExtraWhitespaces ? 1 : 0);
        normalizer.Varint(5, 1);
        model.Message(3, normalizer);
        return model.ToArray();
    }

    static string? Type(JsonElement step) =>
        step.ValueKind == JsonValueKind.Object && step.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    static bool Flag(JsonElement step, string name, bool fallback) =>
        step.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.True : fallback;

    static string Shown(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? "absent" : value.GetRawText();
}
