using Glance.Engine.Models.Flux;
using Glance.Engine.Models;
using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

/// <summary>
/// Shape of the FLUX-style KL autoencoder (BFL layout). <see cref="ChMult"/> has one entry per resolution level;
/// every level but the last halves the spatial size, so latents are 2^(levels - 1) times smaller than images.
/// </summary>
public sealed partial record AutoencoderConfig(
    int Resolution,
    int InChannels,
    int Ch,
    int OutCh,
    int[] ChMult,
    int NumResBlocks,
    int ZChannels,
    double ScaleFactor,
    double ShiftFactor)
{
    /// <summary>GroupNorm group count used throughout the network; every channel count must divide by it.</summary>
    public const int NormGroups = 32;

    /// <summary>The FLUX.1 autoencoder (ae.safetensors).</summary>
    public static AutoencoderConfig Flux => new(256, 3, 128, 3, [1, 2, 4, 4], 2, 16, 0.3611, 0.1159);

    /// <summary>A two-level, 32-channel model for tests; non-trivial scale and shift so the latent mapping is exercised.</summary>
    public static AutoencoderConfig Tiny => new(32, 3, 32, 3, [1, 2], 1, 4, 0.5, 0.1);

    public static IReadOnlyList<string> PresetNames { get; } = ["flux", "tiny"];

    public static AutoencoderConfig FromPreset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "flux" => Flux,
            "tiny" => Tiny,
            _ => throw new ArgumentException($"Unknown autoencoder preset '{name}'; expected one of: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    /// <summary>How many times smaller the latent grid is than the image, per side.</summary>
    public int DownsampleFactor => 1 << (ChMult.Length - 1);

    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentException($"AutoencoderConfig.{name} is {value}; expected a positive value.", name);
        }

        Positive(Resolution, nameof(Resolution));
        Positive(InChannels, nameof(InChannels));
        Positive(OutCh, nameof(OutCh));
        Positive(NumResBlocks, nameof(NumResBlocks));
        Positive(ZChannels, nameof(ZChannels));
        if (Ch <= 0 || Ch % NormGroups != 0)
            throw new ArgumentException($"AutoencoderConfig.Ch is {Ch}; expected a positive multiple of {NormGroups} (GroupNorm uses {NormGroups} groups).", nameof(Ch));
        if (ChMult is null || ChMult.Length == 0)
            throw new ArgumentException("AutoencoderConfig.ChMult is empty; expected one positive multiplier per resolution level, e.g. [1, 2, 4, 4].", nameof(ChMult));
        for (int i = 0; i < ChMult.Length; i++)
        {
            if (ChMult[i] <= 0)
                throw new ArgumentException($"AutoencoderConfig.ChMult[{i}] is {ChMult[i]}; expected a positive multiplier.", nameof(ChMult));
        }
        if (ChMult.Length > 16)
            throw new ArgumentException($"AutoencoderConfig.ChMult has {ChMult.Length} levels; expected at most 16.", nameof(ChMult));
        if (Resolution % DownsampleFactor != 0)
            throw new ArgumentException($"AutoencoderConfig.Resolution is {Resolution}; expected a multiple of the downsample factor {DownsampleFactor}.", nameof(Resolution));
        if (ScaleFactor == 0 || !double.IsFinite(ScaleFactor))
            throw new ArgumentException($"AutoencoderConfig.ScaleFactor is {ScaleFactor}; expected a finite non-zero value.", nameof(ScaleFactor));
        if (!double.IsFinite(ShiftFactor))
            throw new ArgumentException($"AutoencoderConfig.ShiftFactor is {ShiftFactor}; expected a finite value.", nameof(ShiftFactor));
    }
}

/// <summary>
/// KL autoencoder with the BFL ae.safetensors key names ("encoder.*", "decoder.*"). Encoding returns the
/// distribution mean (no sampling), so inference is deterministic.
/// </summary>
public sealed class AutoEncoder : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly AutoencoderEncoder encoder;
    public readonly AutoencoderDecoder decoder;
#pragma warning restore IDE1006, CA1051

    public AutoEncoder(AutoencoderConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(AutoEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = new AutoencoderEncoder(config, dtype, device);
        decoder = new AutoencoderDecoder(config, dtype, device);
        RegisterComponents();
    }

    public AutoencoderConfig Config { get; }

    /// <summary>Image [B, InChannels, H, W] in [-1, 1] to the scaled latent ScaleFactor * (mean - ShiftFactor).</summary>
    public Tensor Encode(Tensor image)
    {
        using var scope = NewDisposeScope();
        var (mean, _) = EncodeDistribution(image);
        return mean.Minus(Config.ShiftFactor).TimesInPlace(Config.ScaleFactor).MoveToOuterDisposeScope();
    }

    /// <summary>Unscaled posterior mean and log-variance, each [B, ZChannels, H / f, W / f].</summary>
    public (Tensor Mean, Tensor LogVar) EncodeDistribution(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckImage(image);
        using var moments = encoder.forward(image);
        var halves = moments.chunk(2, 1);
        return (halves[0], halves[1]);
    }

    /// <summary>Scaled latent [B, ZChannels, h, w] to an image [B, OutCh, h * f, w * f], roughly in [-1, 1].</summary>
    public Tensor Decode(Tensor latent)
    {
        ArgumentNullException.ThrowIfNull(latent);
        if (latent.dim() != 4 || latent.shape[1] != Config.ZChannels)
            throw new ArgumentException($"Latent has shape [{string.Join(", ", latent.shape)}]; expected [B, {Config.ZChannels}, h, w].", nameof(latent));
        using var scope = NewDisposeScope();
        var z = latent.DividedBy(Config.ScaleFactor).PlusInPlace(Config.ShiftFactor);
        return decoder.forward(z).MoveToOuterDisposeScope();
    }

    void CheckImage(Tensor image)
    {
        int f = Config.DownsampleFactor;
        if (image.dim() != 4 || image.shape[1] != Config.InChannels)
            throw new ArgumentException($"Image has shape [{string.Join(", ", image.shape)}]; expected [B, {Config.InChannels}, H, W].", nameof(image));
        if (image.shape[2] % f != 0 || image.shape[3] % f != 0)
            throw new ArgumentException($"Image size is {image.shape[2]}x{image.shape[3]}; expected both sides to be multiples of {f}.", nameof(image));
    }
}

public sealed class AutoencoderEncoder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Conv2d conv_in;
    public readonly ModuleList<EncoderLevel> down;
    public readonly AutoencoderMidBlock mid;
    public readonly GroupNorm norm_out;
    public readonly Conv2d conv_out;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderEncoder(AutoencoderConfig config, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderEncoder))
    {
        conv_in = LoadableLayers.Conv2d(config.InChannels, config.Ch, 3, padding: 1, device: device, dtype: dtype);
        var levels = new EncoderLevel[config.ChMult.Length];
        long blockIn = config.Ch;
        for (int i = 0; i < levels.Length; i++)
        {
            long blockOut = (long)config.Ch * config.ChMult[i];
            bool downsamples = i != levels.Length - 1;
            levels[i] = new EncoderLevel(blockIn, blockOut, config.NumResBlocks, downsamples, dtype, device);
            blockIn = blockOut;
        }
        down = nn.ModuleList(levels);
        mid = new AutoencoderMidBlock(blockIn, dtype, device);
        norm_out = AutoencoderLayers.Norm(blockIn, dtype, device);
        conv_out = LoadableLayers.Conv2d(blockIn, 2L * config.ZChannels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Image to moments [B, 2 * ZChannels, h, w]: mean then log-variance along channels.</summary>
    public override Tensor forward(Tensor input)
    {
        var h = ConvolutionPrecision.Forward(conv_in, input);
        foreach (var level in down) h = AutoencoderLayers.Replace(h, level.forward(h));
        h = AutoencoderLayers.Replace(h, mid.forward(h));
        h = AutoencoderLayers.Replace(h, norm_out.forward(h));
        h = AutoencoderLayers.Replace(h, nn.functional.silu(h));
        return AutoencoderLayers.Replace(h, ConvolutionPrecision.Forward(conv_out, h));
    }
}

public sealed class AutoencoderDecoder : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Conv2d conv_in;
    public readonly AutoencoderMidBlock mid;
    public readonly ModuleList<DecoderLevel> up;
    public readonly GroupNorm norm_out;
    public readonly Conv2d conv_out;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderDecoder(AutoencoderConfig config, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderDecoder))
    {
        int levelCount = config.ChMult.Length;
        long blockIn = (long)config.Ch * config.ChMult[levelCount - 1];
        conv_in = LoadableLayers.Conv2d(config.ZChannels, blockIn, 3, padding: 1, device: device, dtype: dtype);
        mid = new AutoencoderMidBlock(blockIn, dtype, device);
        // Built from the deepest level up (each level's input width is the previous level's output), but
        // stored by level index, as the checkpoint numbers them.
        var levels = new DecoderLevel[levelCount];
        for (int i = levelCount - 1; i >= 0; i--)
        {
            long blockOut = (long)config.Ch * config.ChMult[i];
            levels[i] = new DecoderLevel(blockIn, blockOut, config.NumResBlocks + 1, upsamples: i != 0, dtype, device);
            blockIn = blockOut;
        }
        up = nn.ModuleList(levels);
        norm_out = AutoencoderLayers.Norm(blockIn, dtype, device);
        conv_out = LoadableLayers.Conv2d(blockIn, config.OutCh, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>Unscaled latent [B, ZChannels, h, w] to image [B, OutCh, H, W].</summary>
    public override Tensor forward(Tensor input)
    {
        var h = ConvolutionPrecision.Forward(conv_in, input);
        h = AutoencoderLayers.Replace(h, mid.forward(h));
        for (int i = up.Count - 1; i >= 0; i--) h = AutoencoderLayers.Replace(h, up[i].forward(h));
        h = AutoencoderLayers.Replace(h, norm_out.forward(h));
        h = AutoencoderLayers.Replace(h, nn.functional.silu(h));
        return AutoencoderLayers.Replace(h, ConvolutionPrecision.Forward(conv_out, h));
    }
}

/// <summary>One encoder resolution level: resnets, then (except the last level) a stride-2 downsample.</summary>
public sealed class EncoderLevel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<AutoencoderResnetBlock> block;
    public readonly AutoencoderDownsample? downsample;
#pragma warning restore IDE1006, CA1051

    internal EncoderLevel(long inChannels, long outChannels, int resBlocks, bool downsamples, ScalarType? dtype, Device? device)
        : base(nameof(EncoderLevel))
    {
        block = AutoencoderLayers.Resnets(inChannels, outChannels, resBlocks, dtype, device);
        if (downsamples) downsample = new AutoencoderDownsample(outChannels, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input.alias();
        foreach (var resnet in block) h = AutoencoderLayers.Replace(h, resnet.forward(h));
        return downsample is null ? h : AutoencoderLayers.Replace(h, downsample.forward(h));
    }
}

/// <summary>One decoder resolution level: NumResBlocks + 1 resnets, then (except level 0) a nearest x2 upsample.</summary>
public sealed class DecoderLevel : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly ModuleList<AutoencoderResnetBlock> block;
    public readonly AutoencoderUpsample? upsample;
#pragma warning restore IDE1006, CA1051

    internal DecoderLevel(long inChannels, long outChannels, int resBlocks, bool upsamples, ScalarType? dtype, Device? device)
        : base(nameof(DecoderLevel))
    {
        block = AutoencoderLayers.Resnets(inChannels, outChannels, resBlocks, dtype, device);
        if (upsamples) upsample = new AutoencoderUpsample(outChannels, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = input.alias();
        foreach (var resnet in block) h = AutoencoderLayers.Replace(h, resnet.forward(h));
        return upsample is null ? h : AutoencoderLayers.Replace(h, upsample.forward(h));
    }
}

/// <summary>Resnet, single-head self-attention, resnet, at the lowest resolution.</summary>
public sealed class AutoencoderMidBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly AutoencoderResnetBlock block_1;
    public readonly AutoencoderAttention attn_1;
    public readonly AutoencoderResnetBlock block_2;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderMidBlock(long channels, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderMidBlock))
    {
        block_1 = new AutoencoderResnetBlock(channels, channels, dtype, device);
        attn_1 = new AutoencoderAttention(channels, dtype, device);
        block_2 = new AutoencoderResnetBlock(channels, channels, dtype, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = block_1.forward(input);
        h = AutoencoderLayers.Replace(h, attn_1.forward(h));
        return AutoencoderLayers.Replace(h, block_2.forward(h));
    }
}

/// <summary>norm, swish, conv, norm, swish, conv, plus a 1x1 conv shortcut when the width changes.</summary>
public sealed class AutoencoderResnetBlock : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly GroupNorm norm1;
    public readonly Conv2d conv1;
    public readonly GroupNorm norm2;
    public readonly Conv2d conv2;
    public readonly Conv2d? nin_shortcut;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderResnetBlock(long inChannels, long outChannels, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderResnetBlock))
    {
        norm1 = AutoencoderLayers.Norm(inChannels, dtype, device);
        conv1 = LoadableLayers.Conv2d(inChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        norm2 = AutoencoderLayers.Norm(outChannels, dtype, device);
        conv2 = LoadableLayers.Conv2d(outChannels, outChannels, 3, padding: 1, device: device, dtype: dtype);
        if (inChannels != outChannels) nin_shortcut = LoadableLayers.Conv2d(inChannels, outChannels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        var h = norm1.forward(input);
        h = AutoencoderLayers.Replace(h, nn.functional.silu(h));
        h = AutoencoderLayers.Replace(h, ConvolutionPrecision.Forward(conv1, h));
        h = AutoencoderLayers.Replace(h, norm2.forward(h));
        h = AutoencoderLayers.Replace(h, nn.functional.silu(h));
        h = AutoencoderLayers.Replace(h, ConvolutionPrecision.Forward(conv2, h));
        if (nin_shortcut is null) return AutoencoderLayers.Replace(h, input.Plus(h));
        using var shortcut = ConvolutionPrecision.Forward(nin_shortcut, input);
        return AutoencoderLayers.Replace(h, shortcut.Plus(h));
    }
}

/// <summary>Single-head attention over all pixels, with 1x1 convolutions as projections.</summary>
public sealed class AutoencoderAttention : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly GroupNorm norm;
    public readonly Conv2d q;
    public readonly Conv2d k;
    public readonly Conv2d v;
    public readonly Conv2d proj_out;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderAttention(long channels, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderAttention))
    {
        norm = AutoencoderLayers.Norm(channels, dtype, device);
        q = LoadableLayers.Conv2d(channels, channels, 1, device: device, dtype: dtype);
        k = LoadableLayers.Conv2d(channels, channels, 1, device: device, dtype: dtype);
        v = LoadableLayers.Conv2d(channels, channels, 1, device: device, dtype: dtype);
        proj_out = LoadableLayers.Conv2d(channels, channels, 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], c = input.shape[1], height = input.shape[2], width = input.shape[3];
        var h = norm.forward(input);
        // [B, C, H, W] -> [B, 1, H*W, C]: one head whose features are the channels.
        Tensor Tokens(Conv2d projection) => ConvolutionPrecision.Forward(projection, h).reshape(b, 1, c, height * width).transpose(2, 3);
        var attended = nn.functional.scaled_dot_product_attention(Tokens(q), Tokens(k), Tokens(v));
        var image = attended.transpose(2, 3).reshape(b, c, height, width);
        return input.Plus(ConvolutionPrecision.Forward(proj_out, image)).MoveToOuterDisposeScope();
    }
}

/// <summary>Asymmetric zero pad (right and bottom by one), then a 3x3 stride-2 convolution without padding.</summary>
public sealed class AutoencoderDownsample : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Conv2d conv;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderDownsample(long channels, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderDownsample))
    {
        conv = LoadableLayers.Conv2d(channels, channels, 3, stride: 2, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var padded = nn.functional.pad(input, (0, 1, 0, 1));
        return ConvolutionPrecision.Forward(conv, padded);
    }
}

/// <summary>Nearest-neighbour x2 upsampling followed by a 3x3 convolution.</summary>
public sealed class AutoencoderUpsample : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly Conv2d conv;
#pragma warning restore IDE1006, CA1051

    internal AutoencoderUpsample(long channels, ScalarType? dtype, Device? device)
        : base(nameof(AutoencoderUpsample))
    {
        conv = LoadableLayers.Conv2d(channels, channels, 3, padding: 1, device: device, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var upsampled = nn.functional.interpolate(input, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest);
        return ConvolutionPrecision.Forward(conv, upsampled);
    }
}

static class AutoencoderLayers
{
    /// <summary>GroupNorm(32, eps 1e-6) initialised as identity: TorchSharp 0.107 leaves its affine parameters uninitialised (torch.empty).</summary>
    public static GroupNorm Norm(long channels, ScalarType? dtype, Device? device)
    {
        var norm = nn.GroupNorm(AutoencoderConfig.NormGroups, channels, eps: 1e-6, device: device, dtype: dtype);
        using (no_grad())
        {
            norm.weight.FillInPlace(1);
            norm.bias!.zero_();
        }
        return norm;
    }

    public static ModuleList<AutoencoderResnetBlock> Resnets(long inChannels, long outChannels, int count, ScalarType? dtype, Device? device)
    {
        var blocks = new AutoencoderResnetBlock[count];
        for (int i = 0; i < count; i++) blocks[i] = new AutoencoderResnetBlock(i == 0 ? inChannels : outChannels, outChannels, dtype, device);
        return nn.ModuleList(blocks);
    }

    /// <summary>Frees an intermediate activation as soon as the next one exists; full-size images make these large.</summary>
    public static Tensor Replace(Tensor previous, Tensor next)
    {
        previous.Dispose();
        return next;
    }
}
