using Glance.Engine.Training;
using Glance.Engine.Lora;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Runtime;
using Glance.Engine.Serving;
using Glance.Engine.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>
/// Qwen-Image: the MMDiT transformer, the Wan-style autoencoder on single frames, and Qwen2.5-VL's language model as
/// the text encoder under QwenImagePipeline's prompt template. Prompts keep their own lengths (a token mask where a
/// batch mixes lengths); guidance is true CFG with the norm rescale.
/// </summary>
public sealed class QwenImageModel : DiffusionModel
{
    readonly int _suffixTokens;

    internal QwenImageModel(QwenImageSnapshot snapshot, Qwen2Tokenizer tokenizer, ModelProfile profile, int maxSequenceLength,
        Device device, ScalarType dtype, (Device Device, ScalarType DType)? textEncoders = null)
        : base(device, dtype, textEncoders)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Snapshot = snapshot;
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Profile = profile ?? throw new ArgumentNullException(nameof(profile));
        if (maxSequenceLength < 1 || maxSequenceLength > QwenImagePromptTemplate.MaxPromptTokens)
            throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), maxSequenceLength, $"expected 1 to {QwenImagePromptTemplate.MaxPromptTokens} text tokens (QwenImagePipeline's limit)");
        if (tokenizer.VocabSize > snapshot.TextEncoder.VocabSize)
            throw new ArgumentException($"The tokenizer ({snapshot.TokenizerFolder}) has {tokenizer.VocabSize} ids; the text encoder's vocabulary (vocab_size) has {snapshot.TextEncoder.VocabSize}.");
        QwenImagePromptTemplate.CheckDroppedTokens(tokenizer);
        _suffixTokens = tokenizer.Encode(QwenImagePromptTemplate.Suffix).Count;
        if (maxSequenceLength <= _suffixTokens)
            throw new ArgumentOutOfRangeException(nameof(maxSequenceLength), maxSequenceLength, $"expected more than the template's {_suffixTokens} closing tokens");
        MaxSequenceLength = maxSequenceLength;

        Transformer = new QwenImageTransformer(snapshot.Transformer, dtype, device);
        Autoencoder = new QwenImageAutoencoder(snapshot.Autoencoder, dtype, device);
        TextEncoder = new Qwen25VLTextModel(snapshot.TextEncoder, TextDType, TextDevice);
        Transformer.eval();
        Autoencoder.eval();
        TextEncoder.eval();
    }

    public QwenImageSnapshot Snapshot { get; }
    public QwenImageTransformer Transformer { get; }
    public QwenImageAutoencoder Autoencoder { get; }
    public Qwen25VLTextModel TextEncoder { get; }
    public Qwen2Tokenizer Tokenizer { get; }

    /// <summary>Text tokens the transformer reads per prompt (after the template's dropped system block): the prompt and the template's closing tokens.</summary>
    public int MaxSequenceLength { get; }

    public override ModelProfile Profile { get; }

    public override nn.Module Denoiser => Transformer;

    public override AdapterRouting Routing => Transformer.Routing;

    public override TrainingRecipe TrainingRecipe => TrainingRecipe.QwenImage;

    public override IReadOnlyList<string> AdapterTargets(string targetSet) => LoraTargetSets.Named(targetSet, Transformer.Config);

    protected override ModuleSlice? ResolveAdapterTarget(string moduleName) => QwenImageCheckpointNames.MapAdapterModule(moduleName);

    /// <summary>
    /// The template's tokens for one prompt, at most <see cref="MaxSequenceLength"/> after the dropped ones. A longer
    /// prompt loses its own last tokens, not the template's closing tokens (the pipeline's truncation would cut those).
    /// </summary>
    internal IReadOnlyList<int> TemplateIds(string prompt)
    {
        var ids = Tokenizer.Encode(QwenImagePromptTemplate.Format(prompt));
        int keep = QwenImagePromptTemplate.DroppedTokens + MaxSequenceLength;
        if (ids.Count <= keep) return ids;
        return [.. ids.Take(keep - _suffixTokens), .. ids.Skip(ids.Count - _suffixTokens)];
    }

    /// <summary>
    /// Runs the language model over the templated prompts (right-padded, with an attention mask, so that padding changes
    /// no token), drops the template's system block and returns each prompt's final-norm states with a mask when the
    /// prompts differ in length.
    /// </summary>
    public override TextConditioning EncodeText(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        using var scope = NewDisposeScope();
        var rows = prompts.Select(TemplateIds).ToArray();
        int longest = rows.Max(r => r.Count);
        var ids = new long[rows.Length * longest];
        var mask = new long[rows.Length * longest];
        for (int b = 0; b < rows.Length; b++)
        {
            for (int t = 0; t < longest; t++)
            {
                bool token = t < rows[b].Count;
                ids[b * longest + t] = token ? rows[b][t] : Tokenizer.PadId;
                mask[b * longest + t] = token ? 1 : 0;
            }
        }
        var idTensor = tensor(ids, [rows.Length, longest], device: TextDevice);
        var maskTensor = tensor(mask, [rows.Length, longest], device: TextDevice);
        var hidden = TextEncoder.Forward(idTensor, maskTensor);

        int drop = QwenImagePromptTemplate.DroppedTokens;
        var context = hidden.narrow(1, drop, longest - drop);
        var kept = maskTensor.narrow(1, drop, longest - drop);
        // The pipeline pads each prompt's states with zeros; the language model's states at padding are not zero.
        context = context.mul(kept.unsqueeze(-1).to(context.dtype)).to(DType).to(Device);
        bool sameLength = rows.All(r => r.Count == longest);
        return new TextConditioning(
            context.MoveToOuterDisposeScope(), null,
            sameLength ? null : kept.to(Device).MoveToOuterDisposeScope());
    }

    public override IReadOnlyList<PromptTruncation> Truncations(string field, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int tokens = Tokenizer.Encode(QwenImagePromptTemplate.Format(text)).Count - QwenImagePromptTemplate.DroppedTokens - _suffixTokens;
        int kept = MaxSequenceLength - _suffixTokens;
        return tokens > kept ? [new PromptTruncation(field, "qwen2.5-vl", tokens, kept)] : [];
    }

    /// <summary>The prompt's own tokens (after the template's dropped block, before its closing tokens).</summary>
    public override IReadOnlyList<PromptTokenLimit> PromptTokenLimits => [new PromptTokenLimit("qwen2.5-vl", MaxSequenceLength - _suffixTokens)];

    public override Tensor PredictVelocity(Tensor packedLatents, Tensor sigmas, TextConditioning text, int width, int height, Tensor? guidance = null)
    {
        ArgumentNullException.ThrowIfNull(packedLatents);
        ArgumentNullException.ThrowIfNull(text);
        if (guidance is not null) throw new ArgumentException("Qwen-Image takes no distilled guidance; its guidance is true CFG.", nameof(guidance));
        using var scope = NewDisposeScope();
        var (latentH, latentW) = LatentSize(width, height);
        var velocity = Transformer.Forward(
            packedLatents.to(DType), text.Context.to(DType), text.Mask?.to(Device), sigmas.to(ScalarType.Float32),
            latentH / 2, latentW / 2);
        return velocity.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    protected override Tensor DecodeLatents(Tensor latents) => Autoencoder.Decode(latents);

    protected override Tensor EncodeImages(Tensor images) => Autoencoder.Encode(images);

    protected override void DisposeModules()
    {
        Transformer.Dispose();
        Autoencoder.Dispose();
        TextEncoder.Dispose();
    }
}
