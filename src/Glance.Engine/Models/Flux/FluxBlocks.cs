using Glance.Engine.Runtime;
using Glance.Engine.Lora;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

#pragma warning disable IDE1006 // field names are the checkpoint's key names

/// <summary>
/// Text and image streams with their own weights, attending jointly over [txt, img]: modulated attention,
/// then a modulated GELU MLP, each with a gated residual.
/// </summary>
internal sealed class DoubleStreamBlock : nn.Module
{
    readonly int _heads;
    readonly Modulation img_mod;
    readonly SelfAttention img_attn;
    readonly Sequential img_mlp;
    readonly Modulation txt_mod;
    readonly SelfAttention txt_attn;
    readonly Sequential txt_mlp;

    public DoubleStreamBlock(FluxConfig config, ScalarType dtype, Device device) : base(nameof(DoubleStreamBlock))
    {
        _heads = config.NumHeads;
        img_mod = new Modulation(config.HiddenSize, 6, dtype, device);
        img_attn = new SelfAttention(config, dtype, device);
        img_mlp = Mlp(config, dtype, device);
        txt_mod = new Modulation(config.HiddenSize, 6, dtype, device);
        txt_attn = new SelfAttention(config, dtype, device);
        txt_mlp = Mlp(config, dtype, device);
        RegisterComponents();
    }

    // Indices 0 and 2 hold the weights, as in the checkpoints' img_mlp.0 / img_mlp.2.
    static Sequential Mlp(FluxConfig config, ScalarType dtype, Device device) => nn.Sequential(
        new LoraLinear(config.HiddenSize, config.MlpHiddenSize, hasBias: true, dtype, device),
        nn.GELU(GELU.Approximate.tanh),
        new LoraLinear(config.MlpHiddenSize, config.HiddenSize, hasBias: true, dtype, device));

    public (Tensor Img, Tensor Txt) Forward(Tensor img, Tensor txt, Tensor vec, RopeAngles rope)
    {
        using var scope = NewDisposeScope();
        var imgMod = img_mod.Forward(vec);
        var txtMod = txt_mod.Forward(vec);

        var (imgQ, imgK, imgV) = Project(img_attn, img, imgMod);
        var (txtQ, txtK, txtV) = Project(txt_attn, txt, txtMod);
        var attended = FluxOps.Attention(cat([txtQ, imgQ], 2), cat([txtK, imgK], 2), cat([txtV, imgV], 2), rope);
        long textLength = txt.shape[1];
        var txtAttended = attended.narrow(1, 0, textLength);
        var imgAttended = attended.narrow(1, textLength, attended.shape[1] - textLength);

        var imgOut = Residuals(img, imgAttended, img_attn, img_mlp, imgMod);
        var txtOut = Residuals(txt, txtAttended, txt_attn, txt_mlp, txtMod);
        return scope.MoveToOuter(imgOut, txtOut);
    }

    (Tensor Query, Tensor Key, Tensor Value) Project(SelfAttention attention, Tensor x, Tensor[] mod)
    {
        var modulated = FluxOps.Modulate(x, mod[0], mod[1]);
        var (q, k, v) = FluxOps.SplitHeads(attention.Qkv.forward(modulated), _heads);
        var (qNormed, kNormed) = attention.Norm.Forward(q, k, v);
        return (qNormed, kNormed, v);
    }

    static Tensor Residuals(Tensor x, Tensor attended, SelfAttention attention, Sequential mlp, Tensor[] mod)
    {
        var afterAttention = x.PlusProduct(mod[2], attention.Proj.forward(attended));
        var mlpOut = mlp.forward(FluxOps.Modulate(afterAttention, mod[3], mod[4]));
        return afterAttention.PlusProduct(mod[5], mlpOut);
    }
}

/// <summary>
/// One stream over [txt, img]: a single linear produces q, k, v and the MLP input in parallel; attention
/// output and activated MLP are fused back by a second linear, with one gated residual.
/// </summary>
internal sealed class SingleStreamBlock : nn.Module
{
    readonly int _heads;
    readonly long _hidden;
    readonly long _mlpHidden;
    readonly LoraLinear linear1;
    readonly LoraLinear linear2;
    readonly QkNorm norm;
    readonly Modulation modulation;

    public SingleStreamBlock(FluxConfig config, ScalarType dtype, Device device) : base(nameof(SingleStreamBlock))
    {
        _heads = config.NumHeads;
        _hidden = config.HiddenSize;
        _mlpHidden = config.MlpHiddenSize;
        linear1 = new LoraLinear(_hidden, 3 * _hidden + _mlpHidden, hasBias: true, dtype, device);
        linear2 = new LoraLinear(_hidden + _mlpHidden, _hidden, hasBias: true, dtype, device);
        norm = new QkNorm(config.HeadDim, dtype, device);
        modulation = new Modulation(_hidden, 3, dtype, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor vec, RopeAngles rope)
    {
        using var scope = NewDisposeScope();
        var mod = modulation.Forward(vec);
        var fused = linear1.forward(FluxOps.Modulate(x, mod[0], mod[1]));
        var parts = fused.split([3 * _hidden, _mlpHidden], -1);
        var (q, k, v) = FluxOps.SplitHeads(parts[0], _heads);
        var (qNormed, kNormed) = norm.Forward(q, k, v);
        var attended = FluxOps.Attention(qNormed, kNormed, v, rope);
        var output = linear2.forward(cat([attended, FluxOps.GeluTanh(parts[1])], 2));
        return scope.MoveToOuter(x.PlusProduct(mod[2], output));
    }
}

/// <summary>Final adaLN (shift, scale) and projection back to packed latent features.</summary>
internal sealed class LastLayer : nn.Module
{
    readonly LoraLinear linear;
    readonly Sequential adaLN_modulation;

    public LastLayer(long hidden, long outChannels, ScalarType dtype, Device device) : base(nameof(LastLayer))
    {
        linear = new LoraLinear(hidden, outChannels, hasBias: true, dtype, device);
        // Index 1 holds the weights, as in the checkpoints' adaLN_modulation.1.
        adaLN_modulation = nn.Sequential(nn.SiLU(), new LoraLinear(hidden, 2 * hidden, hasBias: true, dtype, device));
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor vec)
    {
        using var scope = NewDisposeScope();
        var shiftScale = adaLN_modulation.forward(vec).unsqueeze(1).chunk(2, -1);
        return scope.MoveToOuter(linear.forward(FluxOps.Modulate(x, shiftScale[0], shiftScale[1])));
    }
}

#pragma warning restore IDE1006
