using Glance.Engine.Lora;
using Glance.Engine.Models.Flux;
using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

#pragma warning disable IDE1006 // field names are the checkpoint's key names

/// <summary>
/// One dual-stream block: image and text keep their own modulation, projections and MLPs, and attend jointly over
/// [text, image]. Each stream: modulated attention, then a modulated GELU MLP, each with a gated residual.
/// </summary>
internal sealed class QwenImageTransformerBlock : nn.Module
{
    // Per stream, [shift1, scale1, gate1, shift2, scale2, gate2] of model width.
    const int ModulationChunks = 6;

    readonly Sequential img_mod;
    readonly QwenJointAttention attn;
    readonly QwenFeedForward img_mlp;
    readonly Sequential txt_mod;
    readonly QwenFeedForward txt_mlp;

    public QwenImageTransformerBlock(QwenImageConfig config, ScalarType dtype, Device device) : base(nameof(QwenImageTransformerBlock))
    {
        long inner = config.InnerDim;
        // Index 1 holds the weights, as in the checkpoints' img_mod.1 (index 0 is the SiLU).
        img_mod = nn.Sequential(nn.SiLU(), new LoraLinear(inner, ModulationChunks * inner, hasBias: true, dtype, device));
        attn = new QwenJointAttention(config, dtype, device);
        img_mlp = new QwenFeedForward(inner, config.MlpHiddenDim, dtype, device);
        txt_mod = nn.Sequential(nn.SiLU(), new LoraLinear(inner, ModulationChunks * inner, hasBias: true, dtype, device));
        txt_mlp = new QwenFeedForward(inner, config.MlpHiddenDim, dtype, device);
        RegisterComponents();
    }

    public (Tensor Img, Tensor Txt) Forward(Tensor img, Tensor txt, Tensor temb, Tensor? keyMask, RopeAngles rope)
    {
        using var scope = NewDisposeScope();
        var imgMod = img_mod.forward(temb).unsqueeze(1).chunk(ModulationChunks, -1);
        var txtMod = txt_mod.forward(temb).unsqueeze(1).chunk(ModulationChunks, -1);

        var (imgAttended, txtAttended) = attn.Forward(
            FluxOps.Modulate(img, imgMod[0], imgMod[1]), FluxOps.Modulate(txt, txtMod[0], txtMod[1]), keyMask, rope);

        var imgOut = Residuals(img, imgAttended, img_mlp, imgMod);
        var txtOut = Residuals(txt, txtAttended, txt_mlp, txtMod);
        if (imgOut.dtype == ScalarType.Float16)
        {
            // diffusers clips both streams to the float16 range after every block.
            imgOut = imgOut.Clamped(-65504, 65504);
            txtOut = txtOut.Clamped(-65504, 65504);
        }
        return scope.MoveToOuter(imgOut, txtOut);
    }

    static Tensor Residuals(Tensor x, Tensor attended, QwenFeedForward mlp, Tensor[] mod)
    {
        var afterAttention = x.PlusProduct(mod[2], attended);
        var mlpOut = mlp.forward(FluxOps.Modulate(afterAttention, mod[3], mod[4]));
        return afterAttention.PlusProduct(mod[5], mlpOut);
    }
}

/// <summary>
/// Joint attention of the two streams (diffusers Attention with QwenDoubleStreamAttnProcessor2_0): separate q/k/v
/// projections per stream, per-head RMS norm on q and k, RoPE, softmax attention over [text, image] with the default
/// 1/sqrt(head size) scale and padded text tokens masked as keys, then to_out.0 for the image and to_add_out for the text.
/// </summary>
internal sealed class QwenJointAttention : nn.Module
{
    readonly int _heads;
    readonly LoraLinear to_q;
    readonly LoraLinear to_k;
    readonly LoraLinear to_v;
    readonly LoraLinear add_q_proj;
    readonly LoraLinear add_k_proj;
    readonly LoraLinear add_v_proj;
    readonly QwenRmsNorm norm_q;
    readonly QwenRmsNorm norm_k;
    readonly QwenRmsNorm norm_added_q;
    readonly QwenRmsNorm norm_added_k;
    readonly ModuleList<LoraLinear> to_out;
    readonly LoraLinear to_add_out;

    public QwenJointAttention(QwenImageConfig config, ScalarType dtype, Device device) : base(nameof(QwenJointAttention))
    {
        _heads = config.NumAttentionHeads;
        long inner = config.InnerDim;
        LoraLinear Linear() => new(inner, inner, hasBias: true, dtype, device);
        to_q = Linear();
        to_k = Linear();
        to_v = Linear();
        add_q_proj = Linear();
        add_k_proj = Linear();
        add_v_proj = Linear();
        norm_q = new QwenRmsNorm(config.AttentionHeadDim, dtype, device);
        norm_k = new QwenRmsNorm(config.AttentionHeadDim, dtype, device);
        norm_added_q = new QwenRmsNorm(config.AttentionHeadDim, dtype, device);
        norm_added_k = new QwenRmsNorm(config.AttentionHeadDim, dtype, device);
        // Index 0, as in the checkpoints' to_out.0 (diffusers' to_out.1 is a dropout without weights).
        to_out = new ModuleList<LoraLinear>(Linear());
        to_add_out = Linear();
        RegisterComponents();
    }

    /// <summary>
    /// The key mask for joint attention, [B, 1, 1, T + L] with true where a key takes part: the text mask, then every
    /// image token. Null when there is no mask or it marks every text position as a token (the same result, faster).
    /// </summary>
    public static Tensor? KeyMask(Tensor? txtMask, long imageTokens, Device device)
    {
        if (txtMask is null) return null;
        using var scope = NewDisposeScope();
        var text = txtMask.to(ScalarType.Bool).to(device);
        if (text.all().item<bool>()) return null;
        var image = ones([text.shape[0], imageTokens], dtype: ScalarType.Bool, device: device);
        return scope.MoveToOuter(cat([text, image], 1).view(text.shape[0], 1, 1, -1));
    }

    /// <summary>img [B, L, inner] and txt [B, T, inner] (already modulated) -> their attention outputs, projected.</summary>
    public (Tensor Img, Tensor Txt) Forward(Tensor img, Tensor txt, Tensor? keyMask, RopeAngles rope)
    {
        using var scope = NewDisposeScope();
        var query = cat([Heads(add_q_proj, txt, norm_added_q), Heads(to_q, img, norm_q)], 2);
        var key = cat([Heads(add_k_proj, txt, norm_added_k), Heads(to_k, img, norm_k)], 2);
        var value = cat([Heads(add_v_proj, txt, null), Heads(to_v, img, null)], 2);
        var attended = nn.functional.scaled_dot_product_attention(Rope.Apply(query, rope), Rope.Apply(key, rope), value, keyMask);
        var merged = attended.transpose(1, 2).reshape(attended.shape[0], attended.shape[2], -1);

        long textLength = txt.shape[1];
        var txtOut = to_add_out.forward(merged.narrow(1, 0, textLength));
        var imgOut = to_out[0].forward(merged.narrow(1, textLength, img.shape[1]));
        return scope.MoveToOuter(imgOut, txtOut);
    }

    /// <summary>Projection [B, L, inner] -> [B, heads, L, headDim], RMS-normalised per head when a norm is given.</summary>
    Tensor Heads(LoraLinear projection, Tensor x, QwenRmsNorm? norm)
    {
        using var projected = projection.forward(x);
        using var split = projected.view(x.shape[0], x.shape[1], _heads, -1);
        if (norm is null) return split.transpose(1, 2);
        using var normed = norm.forward(split);
        return normed.transpose(1, 2);
    }
}

#pragma warning restore IDE1006
