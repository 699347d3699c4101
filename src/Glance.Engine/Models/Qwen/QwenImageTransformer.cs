using Glance.Engine.Lora;
using Glance.Engine.Models.Flux;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

/// <summary>Shape of a Qwen-Image transformer, field for field as diffusers' QwenImageTransformer2DModel config.</summary>
/// <param name="PatchSize">Latent patch side; the output has OutChannels * PatchSize^2 features per token.</param>
/// <param name="InChannels">Packed latent features per token (16 latent channels x 2x2 patch = 64).</param>
/// <param name="OutChannels">Latent channels of the prediction, before patch packing (16).</param>
/// <param name="NumLayers">Dual-stream blocks.</param>
/// <param name="AttentionHeadDim">Features per attention head.</param>
/// <param name="NumAttentionHeads">Attention heads; the model width is heads x head size.</param>
/// <param name="JointAttentionDim">Text token feature size (Qwen2.5-VL hidden size, 3584).</param>
/// <param name="AxesDimsRope">RoPE features per position axis (frame, row, column); they add up to the head size.</param>
/// <param name="Theta">RoPE base (diffusers fixes 10000).</param>
/// <param name="GuidanceEmbeds">Must be false: diffusers' model builds no guidance embedder for it.</param>
public sealed record QwenImageConfig(
    int PatchSize,
    int InChannels,
    int OutChannels,
    int NumLayers,
    int AttentionHeadDim,
    int NumAttentionHeads,
    int JointAttentionDim,
    int[] AxesDimsRope,
    double Theta = 10_000,
    bool GuidanceEmbeds = false)
{
    /// <summary>Model width.</summary>
    public int InnerDim => NumAttentionHeads * AttentionHeadDim;

    /// <summary>Features per output token: OutChannels x PatchSize^2.</summary>
    public int OutFeatures => OutChannels * PatchSize * PatchSize;

    /// <summary>MLP hidden size (diffusers FeedForward's default 4x).</summary>
    public int MlpHiddenDim => 4 * InnerDim;

    /// <summary>Throws if the values cannot describe a model this engine builds; each message names the value received and the one expected.</summary>
    public QwenImageConfig Validate()
    {
        RequirePositive(PatchSize, nameof(PatchSize));
        RequirePositive(InChannels, nameof(InChannels));
        RequirePositive(OutChannels, nameof(OutChannels));
        RequirePositive(AttentionHeadDim, nameof(AttentionHeadDim));
        RequirePositive(NumAttentionHeads, nameof(NumAttentionHeads));
        RequirePositive(JointAttentionDim, nameof(JointAttentionDim));
        if (NumLayers < 0) throw new ArgumentException($"NumLayers is {NumLayers}; expected 0 or more blocks.");
        if (!(Theta > 0)) throw new ArgumentException($"Theta is {Theta}; expected a positive RoPE base.");
        if (GuidanceEmbeds)
            throw new ArgumentException("GuidanceEmbeds is true; expected false (diffusers' QwenImageTransformer2DModel has no guidance embedder, so a guidance-distilled variant is not implemented).");
        // QwenEmbedRope has exactly three axes: frame, row, column.
        if (AxesDimsRope is null || AxesDimsRope.Length != 3)
            throw new ArgumentException($"AxesDimsRope has {AxesDimsRope?.Length ?? 0} entries; expected 3 (frame, row, column), e.g. [16, 56, 56].");
        RopeAxes.Check(AxesDimsRope, nameof(AxesDimsRope), AttentionHeadDim, nameof(AttentionHeadDim));
        return this;
    }

    static void RequirePositive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} is {value}; expected a positive number.");
    }
}

/// <summary>
/// The Qwen-Image MMDiT (diffusers QwenImageTransformer2DModel): dual-stream blocks over text and image tokens
/// attending jointly over [text, image], then an adaptive norm and a projection of the image tokens. State-dict keys
/// are exactly diffusers' names; every linear layer is a <see cref="LoraLinear"/> sharing <see cref="Routing"/>.
/// </summary>
public sealed class QwenImageTransformer : nn.Module
{
#pragma warning disable IDE1006 // field names are the checkpoint's key names
    readonly LoraLinear img_in;
    readonly QwenRmsNorm txt_norm;
    readonly LoraLinear txt_in;
    readonly QwenTimestepProjEmbeddings time_text_embed;
    readonly ModuleList<QwenImageTransformerBlock> transformer_blocks;
    readonly QwenAdaLayerNormContinuous norm_out;
    readonly LoraLinear proj_out;
#pragma warning restore IDE1006

    public QwenImageTransformer(QwenImageConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(QwenImageTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config.Validate();
        DType = dtype ?? get_default_dtype();
        Device = device ?? CPU;

        int inner = config.InnerDim;
        img_in = new LoraLinear(config.InChannels, inner, hasBias: true, DType, Device);
        txt_norm = new QwenRmsNorm(config.JointAttentionDim, DType, Device);
        txt_in = new LoraLinear(config.JointAttentionDim, inner, hasBias: true, DType, Device);
        time_text_embed = new QwenTimestepProjEmbeddings(inner, DType, Device);
        transformer_blocks = new ModuleList<QwenImageTransformerBlock>(
            Enumerable.Range(0, config.NumLayers).Select(_ => new QwenImageTransformerBlock(config, DType, Device)).ToArray());
        norm_out = new QwenAdaLayerNormContinuous(inner, DType, Device);
        proj_out = new LoraLinear(inner, config.OutFeatures, hasBias: true, DType, Device);
        RegisterComponents();

        LoraLayers.ShareRouting(this, Routing);
    }

    public QwenImageConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device { get; }

    /// <summary>Which batch rows use which adapter; shared by every linear layer of this model.</summary>
    public AdapterRouting Routing { get; } = new();

    /// <summary>
    /// Predicts the flow velocity of packed image tokens. Autograd stays as the caller set it: wrap inference in
    /// no_grad / inference_mode. Intermediates are freed per block.
    /// </summary>
    /// <param name="img">[B, L, InChannels] packed latents, row-major over the packed grid.</param>
    /// <param name="txt">[B, T, JointAttentionDim] text token features (right-padded when prompts differ in length).</param>
    /// <param name="txtMask">[B, T] 1 for a token, 0 for padding; null when every position is a token. Padded
    /// positions are left out as attention keys, so they change no image output.</param>
    /// <param name="sigmas">[B] sigma in [0, 1] (diffusers' pipeline passes t / 1000); rounded to the model dtype
    /// first, as diffusers does, then embedded as a sinusoid of 1000 * sigma.</param>
    /// <param name="gridHeight">Rows of the packed token grid (latent height / PatchSize).</param>
    /// <param name="gridWidth">Columns of the packed token grid; L = gridHeight * gridWidth.</param>
    /// <returns>[B, L, OutChannels * PatchSize^2] in the model's dtype.</returns>
    public Tensor Forward(Tensor img, Tensor txt, Tensor? txtMask, Tensor sigmas, int gridHeight, int gridWidth)
    {
        long batch = CheckInputs(img, txt, txtMask, sigmas, gridHeight, gridWidth);
        using var scope = NewDisposeScope();

        var imgHidden = img_in.forward(img.to(DType));
        var temb = time_text_embed.Forward(sigmas.to(DType), DType);
        var txtHidden = txt_in.forward(txt_norm.forward(txt.to(DType)));
        long textLength = txt.shape[1];
        var keyMask = QwenJointAttention.KeyMask(txtMask, img.shape[1], Device);
        using var rope = QwenImagePositions.Angles(textLength, gridHeight, gridWidth, Config.AxesDimsRope, Config.Theta, Device);

        foreach (var block in transformer_blocks)
            (imgHidden, txtHidden) = block.Forward(imgHidden, txtHidden, temb, keyMask, rope);

        var output = proj_out.forward(norm_out.Forward(imgHidden, temb));
        if (output.shape[0] != batch)
            throw new InvalidOperationException($"Output batch is {output.shape[0]}; expected {batch}.");
        return scope.MoveToOuter(output);
    }

    long CheckInputs(Tensor img, Tensor txt, Tensor? txtMask, Tensor sigmas, int gridHeight, int gridWidth)
    {
        ArgumentNullException.ThrowIfNull(img);
        ArgumentNullException.ThrowIfNull(txt);
        ArgumentNullException.ThrowIfNull(sigmas);
        if (gridHeight <= 0) throw new ArgumentOutOfRangeException(nameof(gridHeight), gridHeight, "expected a positive number of token rows");
        if (gridWidth <= 0) throw new ArgumentOutOfRangeException(nameof(gridWidth), gridWidth, "expected a positive number of token columns");

        long batch = img.dim() == 3 ? img.shape[0] : -1;
        long tokens = (long)gridHeight * gridWidth;
        RequireShape(img, nameof(img), $"[B, {tokens} (= {gridHeight} x {gridWidth}), InChannels]",
            img.dim() == 3 && img.shape[1] == tokens && img.shape[2] == Config.InChannels);
        RequireShape(txt, nameof(txt), "[B, T >= 1, JointAttentionDim]",
            txt.dim() == 3 && txt.shape[0] == batch && txt.shape[1] >= 1 && txt.shape[2] == Config.JointAttentionDim);
        if (txtMask is not null)
            RequireShape(txtMask, nameof(txtMask), $"[B, {txt.shape[1]}] (one entry per text token)",
                txtMask.dim() == 2 && txtMask.shape[0] == batch && txtMask.shape[1] == txt.shape[1]);
        RequireShape(sigmas, nameof(sigmas), "[B]", sigmas.dim() == 1 && sigmas.shape[0] == batch);
        return batch;

        void RequireShape(Tensor t, string name, string expected, bool ok)
        {
            if (!ok)
                throw new ArgumentException(
                    $"{name} has shape [{string.Join(", ", t.shape)}]; expected {expected} with B = {batch}, InChannels = {Config.InChannels}, "
                    + $"JointAttentionDim = {Config.JointAttentionDim}.",
                    name);
        }
    }
}
