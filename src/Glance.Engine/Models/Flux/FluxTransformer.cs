using Glance.Engine.Runtime;
using Glance.Engine.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

/// <summary>Shape of a FLUX.1 transformer, field for field as in the BFL reference parameters.</summary>
/// <param name="InChannels">Packed latent features per token (16 latent channels x 2x2 patch = 64); also the output size.</param>
/// <param name="VecInDim">Pooled text vector size (CLIP: 768).</param>
/// <param name="ContextInDim">Text token feature size (T5: 4096).</param>
/// <param name="HiddenSize">Model width.</param>
/// <param name="MlpRatio">MLP hidden size over model width.</param>
/// <param name="NumHeads">Attention heads.</param>
/// <param name="Depth">Double-stream blocks.</param>
/// <param name="DepthSingleBlocks">Single-stream blocks.</param>
/// <param name="AxesDim">RoPE dimensions per position axis; they add up to the head size.</param>
/// <param name="Theta">RoPE base.</param>
/// <param name="QkvBias">Whether the double blocks' fused qkv layers have a bias.</param>
/// <param name="GuidanceEmbed">Whether the model has a distilled-guidance embedder (dev: yes, schnell: no).</param>
public sealed record FluxConfig(
    int InChannels,
    int VecInDim,
    int ContextInDim,
    int HiddenSize,
    double MlpRatio,
    int NumHeads,
    int Depth,
    int DepthSingleBlocks,
    int[] AxesDim,
    double Theta,
    bool QkvBias,
    bool GuidanceEmbed)
{
    public int HeadDim => HiddenSize / NumHeads;

    public int MlpHiddenSize => (int)(HiddenSize * MlpRatio);

    /// <summary>Throws if the values cannot describe a working model; each message names the value received and the one expected.</summary>
    public FluxConfig Validate()
    {
        RequirePositive(InChannels, nameof(InChannels));
        RequirePositive(VecInDim, nameof(VecInDim));
        RequirePositive(ContextInDim, nameof(ContextInDim));
        RequirePositive(HiddenSize, nameof(HiddenSize));
        RequirePositive(NumHeads, nameof(NumHeads));
        if (Depth < 0) throw new ArgumentException($"Depth is {Depth}; expected 0 or more double-stream blocks.");
        if (DepthSingleBlocks < 0) throw new ArgumentException($"DepthSingleBlocks is {DepthSingleBlocks}; expected 0 or more single-stream blocks.");
        if (!(MlpRatio > 0) || MlpHiddenSize <= 0)
            throw new ArgumentException($"MlpRatio is {MlpRatio}; expected a positive ratio giving at least one MLP unit for HiddenSize {HiddenSize}.");
        if (HiddenSize % NumHeads != 0)
            throw new ArgumentException($"HiddenSize {HiddenSize} is not divisible by NumHeads {NumHeads}; expected a multiple of {NumHeads}.");
        if (!(Theta > 0)) throw new ArgumentException($"Theta is {Theta}; expected a positive RoPE base.");
        RopeAxes.Check(AxesDim, nameof(AxesDim), HeadDim, "the head size HiddenSize / NumHeads");
        return this;
    }

    static void RequirePositive(int value, string name)
    {
        if (value <= 0) throw new ArgumentException($"{name} is {value}; expected a positive number.");
    }
}

/// <summary>
/// The FLUX.1 rectified-flow transformer (BFL layout): double-stream blocks over separate text and image
/// streams, then single-stream blocks over their concatenation. State-dict keys are exactly the BFL names;
/// every linear layer is a <see cref="LoraLinear"/> sharing <see cref="Routing"/>.
/// </summary>
public sealed class FluxTransformer : nn.Module
{
    const int TimestepEmbeddingDim = 256;

#pragma warning disable IDE1006 // field names are the checkpoint's key names
    readonly LoraLinear img_in;
    readonly MlpEmbedder time_in;
    readonly MlpEmbedder vector_in;
    readonly MlpEmbedder? guidance_in;
    readonly LoraLinear txt_in;
    readonly ModuleList<DoubleStreamBlock> double_blocks;
    readonly ModuleList<SingleStreamBlock> single_blocks;
    readonly LastLayer final_layer;
#pragma warning restore IDE1006

    public FluxTransformer(FluxConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(FluxTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config.Validate();
        DType = dtype ?? get_default_dtype();
        Device = device ?? CPU;

        int hidden = config.HiddenSize;
        img_in = new LoraLinear(config.InChannels, hidden, hasBias: true, DType, Device);
        time_in = new MlpEmbedder(TimestepEmbeddingDim, hidden, DType, Device);
        vector_in = new MlpEmbedder(config.VecInDim, hidden, DType, Device);
        guidance_in = config.GuidanceEmbed ? new MlpEmbedder(TimestepEmbeddingDim, hidden, DType, Device) : null;
        txt_in = new LoraLinear(config.ContextInDim, hidden, hasBias: true, DType, Device);
        double_blocks = new ModuleList<DoubleStreamBlock>(
            Enumerable.Range(0, config.Depth).Select(_ => new DoubleStreamBlock(config, DType, Device)).ToArray());
        single_blocks = new ModuleList<SingleStreamBlock>(
            Enumerable.Range(0, config.DepthSingleBlocks).Select(_ => new SingleStreamBlock(config, DType, Device)).ToArray());
        final_layer = new LastLayer(hidden, config.InChannels, DType, Device);
        RegisterComponents();

        LoraLayers.ShareRouting(this, Routing);
    }

    public FluxConfig Config { get; }

    public ScalarType DType { get; }

    public Device Device { get; }

    /// <summary>Which batch rows use which adapter; shared by every linear layer of this model.</summary>
    public AdapterRouting Routing { get; } = new();

    /// <summary>
    /// Predicts the flow velocity for packed image tokens. Autograd stays as the caller set it: wrap inference
    /// in no_grad / inference_mode; adapter training needs gradients. Intermediates are freed per block.
    /// </summary>
    /// <param name="img">[B, Limg, InChannels] packed latents.</param>
    /// <param name="imgIds">[B or 1, Limg, 3] RoPE positions of the image tokens.</param>
    /// <param name="txt">[B, Ltxt, ContextInDim] text token features.</param>
    /// <param name="txtIds">[B or 1, Ltxt, 3] RoPE positions of the text tokens (zeros for FLUX.1).</param>
    /// <param name="timesteps">[B] sigma in [0, 1]; the embedder scales it by 1000.</param>
    /// <param name="y">[B, VecInDim] pooled text vector.</param>
    /// <param name="guidance">[B] distilled guidance scale; required exactly when the config has a guidance embedder.</param>
    /// <returns>[B, Limg, InChannels] in the model's dtype.</returns>
    public Tensor Forward(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds, Tensor timesteps, Tensor y, Tensor? guidance = null)
    {
        long batch = CheckInputs(img, imgIds, txt, txtIds, timesteps, y, guidance);
        using var scope = NewDisposeScope();

        var imgHidden = img_in.forward(img.to(DType));
        var vec = time_in.forward(TimestepEmbedding.Sinusoid(timesteps, TimestepEmbeddingDim).to(DType));
        if (guidance_in is not null)
            vec = vec.Plus(guidance_in.forward(TimestepEmbedding.Sinusoid(guidance!, TimestepEmbeddingDim).to(DType)));
        vec = vec.Plus(vector_in.forward(y.to(DType)));
        var txtHidden = txt_in.forward(txt.to(DType));

        long idsBatch = Math.Max(imgIds.shape[0], txtIds.shape[0]);
        var ids = cat([txtIds.expand(idsBatch, -1, -1), imgIds.expand(idsBatch, -1, -1)], 1);
        var rope = Rope.Angles(ids, Config.AxesDim, Config.Theta);

        foreach (var block in double_blocks)
            (imgHidden, txtHidden) = block.Forward(imgHidden, txtHidden, vec, rope);

        long textLength = txtHidden.shape[1];
        var joint = cat([txtHidden, imgHidden], 1);
        foreach (var block in single_blocks)
            joint = block.Forward(joint, vec, rope);

        var output = final_layer.Forward(joint.narrow(1, textLength, joint.shape[1] - textLength), vec);
        if (output.shape[0] != batch)
            throw new InvalidOperationException($"Output batch is {output.shape[0]}; expected {batch}.");
        return scope.MoveToOuter(output);
    }

    long CheckInputs(Tensor img, Tensor imgIds, Tensor txt, Tensor txtIds, Tensor timesteps, Tensor y, Tensor? guidance)
    {
        ArgumentNullException.ThrowIfNull(img);
        ArgumentNullException.ThrowIfNull(imgIds);
        ArgumentNullException.ThrowIfNull(txt);
        ArgumentNullException.ThrowIfNull(txtIds);
        ArgumentNullException.ThrowIfNull(timesteps);
        ArgumentNullException.ThrowIfNull(y);

        long batch = img.dim() == 3 ? img.shape[0] : -1;
        RequireShape(img, nameof(img), "[B, Limg, InChannels]", img.dim() == 3 && img.shape[2] == Config.InChannels);
        long imgLength = img.shape[1];
        RequireShape(txt, nameof(txt), "[B, Ltxt, ContextInDim]", txt.dim() == 3 && txt.shape[0] == batch && txt.shape[2] == Config.ContextInDim);
        RequireShape(imgIds, nameof(imgIds), "[B or 1, Limg, 3]", IsIds(imgIds, batch, imgLength));
        RequireShape(txtIds, nameof(txtIds), "[B or 1, Ltxt, 3]", IsIds(txtIds, batch, txt.shape[1]));
        RequireShape(timesteps, nameof(timesteps), "[B]", timesteps.dim() == 1 && timesteps.shape[0] == batch);
        RequireShape(y, nameof(y), "[B, VecInDim]", y.dim() == 2 && y.shape[0] == batch && y.shape[1] == Config.VecInDim);
        if (Config.GuidanceEmbed)
        {
            if (guidance is null)
                throw new ArgumentException("This model has a guidance embedder (GuidanceEmbed = true), so a guidance tensor [B] is required; received none.", nameof(guidance));
            RequireShape(guidance, nameof(guidance), "[B]", guidance.dim() == 1 && guidance.shape[0] == batch);
        }
        else if (guidance is not null)
        {
            throw new ArgumentException("This model has no guidance embedder (GuidanceEmbed = false); expected no guidance tensor, received one.", nameof(guidance));
        }
        return batch;

        bool IsIds(Tensor ids, long b, long length) =>
            ids.dim() == 3 && (ids.shape[0] == b || ids.shape[0] == 1) && ids.shape[1] == length && ids.shape[2] == Config.AxesDim.Length;

        void RequireShape(Tensor t, string name, string expected, bool ok)
        {
            if (!ok)
                throw new ArgumentException(
                    $"{name} has shape [{string.Join(", ", t.shape)}]; expected {expected} with B = {batch}, InChannels = {Config.InChannels}, "
                    + $"ContextInDim = {Config.ContextInDim}, VecInDim = {Config.VecInDim}, {Config.AxesDim.Length} position axes.",
                    name);
        }
    }
}
