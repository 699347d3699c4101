using Glance.Engine.Models.T5;
using System.Text.Json;
using System.Text.Json.Serialization;
using Glance.Engine.Models;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Sampling;
using Glance.Engine.Text;

namespace Glance.Engine.Pipeline;

/// <summary>How the sampler applies guidance for a model.</summary>
/// <param name="TrueCfg">Two forwards per step (conditional and negative prompt) combined with the scale.</param>
/// <param name="NormRescale">Rescale the combined prediction to the conditional norm (Qwen-Image style).</param>
public sealed record GuidanceConfig(bool TrueCfg, double DefaultScale, double MaxScale, bool NormRescale = false);

/// <summary>
/// Everything needed to build a text-to-image model bundle: the networks, the tokenizer, the sampler schedule and
/// serving defaults. Stored as config.json beside the weights of a model folder; a FLUX.1 snapshot's is composed from
/// its own files. The pooled vector is the CLIP pooler output when <see cref="PooledTextEncoder"/> is set (FLUX.1),
/// else the masked mean of the T5 states (glance-mini). <see cref="MaskTextPadding"/> off means the T5 encoder sees
/// its padding, as FLUX.1 was trained.
/// </summary>
public sealed record GlanceModelConfig(
    string Name,
    FluxConfig Transformer,
    AutoencoderConfig Autoencoder,
    T5Config TextEncoder,
    string Tokenizer,
    int MaxTextTokens,
    FlowMatchScheduleConfig Schedule,
    GuidanceConfig Guidance,
    int DefaultWidth,
    int DefaultHeight,
    int MinSize,
    int MaxSize,
    int DefaultBaseSteps = 50,
    int MaxBaseSteps = 100,
    int MaxPromptLength = 500,
    ClipTextConfig? PooledTextEncoder = null,
    bool MaskTextPadding = true)
{
    public const string FileName = "config.json";
    public const string WordTokenizerKind = "word";
    public const string SentencePieceTokenizerKind = "sentencepiece";

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Pixels per packed token side: autoencoder downsampling times the 2x2 patch.</summary>
    public int PixelsPerToken => Autoencoder.DownsampleFactor * 2;

    public GlanceModelConfig Validate()
    {
        Transformer.Validate();
        Autoencoder.Validate();
        TextEncoder.Validate();
        Schedule.Validate();
        if (Transformer.InChannels != Autoencoder.ZChannels * 4)
            throw new ArgumentException($"Transformer InChannels is {Transformer.InChannels}; the autoencoder's {Autoencoder.ZChannels} latent channels packed 2x2 need {Autoencoder.ZChannels * 4}.");
        if (Transformer.ContextInDim != TextEncoder.DModel)
            throw new ArgumentException($"Transformer ContextInDim is {Transformer.ContextInDim}; the text encoder's DModel is {TextEncoder.DModel}.");
        PooledTextEncoder?.Validate();
        int pooled = PooledTextEncoder?.HiddenSize ?? TextEncoder.DModel;
        if (Transformer.VecInDim != pooled)
            throw new ArgumentException($"Transformer VecInDim is {Transformer.VecInDim}; the pooled text vector ({(PooledTextEncoder is null ? "mean of the text encoder states" : "CLIP pooler output")}) has {pooled}.");
        if (Transformer.GuidanceEmbed && Guidance.TrueCfg)
            throw new ArgumentException($"A model uses true CFG or a guidance embedding, not both; received TrueCfg={Guidance.TrueCfg}, GuidanceEmbed={Transformer.GuidanceEmbed}.");
        if (Tokenizer is not (WordTokenizerKind or SentencePieceTokenizerKind))
            throw new ArgumentException($"Tokenizer must be '{WordTokenizerKind}' (vocab.txt) or '{SentencePieceTokenizerKind}' (spiece.model); received '{Tokenizer}'.");
        if (MaxTextTokens < 2) throw new ArgumentException($"MaxTextTokens must be at least 2; received {MaxTextTokens}.");
        foreach (var (name, size) in new[] { ("DefaultWidth", DefaultWidth), ("DefaultHeight", DefaultHeight), ("MinSize", MinSize), ("MaxSize", MaxSize) })
        {
            if (size <= 0 || size % PixelsPerToken != 0)
                throw new ArgumentException($"{name} must be a positive multiple of {PixelsPerToken}; received {size}.");
        }
        return this;
    }

    public static GlanceModelConfig Load(string path)
    {
        using var stream = File.OpenRead(path);
        var config = JsonSerializer.Deserialize<GlanceModelConfig>(stream, JsonOptions)
            ?? throw new InvalidDataException($"{path} holds no model configuration.");
        return config.Validate();
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, JsonOptions));
}
