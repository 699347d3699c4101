using Glance.Engine.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// Shape of diffusers' AutoencoderKLQwenImage (the Wan-2.1-style causal 3-D VAE of Qwen-Image), field for field
/// (base_dim, z_dim, dim_mult, num_res_blocks, attn_scales, temperal_downsample, latents_mean, latents_std).
/// <see cref="DimMult"/> has one entry per resolution level; every level but the last halves the spatial size, and
/// <see cref="TemperalDownsample"/> (diffusers' spelling) says, per halving, whether the video model also halves
/// time there. For a single image that only decides whether a level holds an (unused) time_conv weight.
/// </summary>
public sealed partial record QwenImageAutoencoderConfig(
    int BaseDim,
    int ZDim,
    int[] DimMult,
    int NumResBlocks,
    double[] AttnScales,
    bool[] TemperalDownsample,
    double[] LatentsMean,
    double[] LatentsStd)
{
    /// <summary>RGB in, RGB out (diffusers' input_channels; the released model uses 3).</summary>
    public const int ImageChannels = 3;

    /// <summary>Qwen/Qwen-Image vae/: the defaults of AutoencoderKLQwenImage's constructor, which its config.json repeats.</summary>
    public static QwenImageAutoencoderConfig QwenImage => new(
        BaseDim: 96,
        ZDim: 16,
        DimMult: [1, 2, 4, 4],
        NumResBlocks: 2,
        AttnScales: [],
        TemperalDownsample: [false, true, true],
        LatentsMean: [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
        LatentsStd: [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160]);

    /// <summary>How many times smaller the latent grid is than the image, per side (diffusers: 2 ** len(temperal_downsample)).</summary>
    public int DownsampleFactor => 1 << (DimMult.Length - 1);

    public void Validate()
    {
        static void AtLeast(int value, int minimum, string name, string why)
        {
            if (value < minimum) throw new ArgumentException($"QwenImageAutoencoderConfig.{name} is {value}; expected at least {minimum}{why}.", name);
        }

        AtLeast(BaseDim, 2, nameof(BaseDim), " (the decoder's upsampling halves channel counts)");
        AtLeast(ZDim, 1, nameof(ZDim), "");
        AtLeast(NumResBlocks, 1, nameof(NumResBlocks), "");
        if (DimMult is null || DimMult.Length == 0)
            throw new ArgumentException("QwenImageAutoencoderConfig.DimMult is empty; expected one positive multiplier per resolution level, e.g. [1, 2, 4, 4].", nameof(DimMult));
        if (DimMult.Length > 16)
            throw new ArgumentException($"QwenImageAutoencoderConfig.DimMult has {DimMult.Length} levels; expected at most 16.", nameof(DimMult));
        for (int i = 0; i < DimMult.Length; i++)
        {
            if (DimMult[i] <= 0)
                throw new ArgumentException($"QwenImageAutoencoderConfig.DimMult[{i}] is {DimMult[i]}; expected a positive multiplier.", nameof(DimMult));
        }
        if (TemperalDownsample is null || TemperalDownsample.Length != DimMult.Length - 1)
            throw new ArgumentException(
                $"QwenImageAutoencoderConfig.TemperalDownsample has {TemperalDownsample?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} entries; "
                + $"expected {DimMult.Length - 1}, one per downsampling level (DimMult has {DimMult.Length} levels).", nameof(TemperalDownsample));
        if (AttnScales is null)
            throw new ArgumentException("QwenImageAutoencoderConfig.AttnScales is null; expected a (possibly empty) list of scales such as 1.0, 0.5.", nameof(AttnScales));
        foreach (double scale in AttnScales)
        {
            if (!double.IsFinite(scale) || scale <= 0)
                throw new ArgumentException($"QwenImageAutoencoderConfig.AttnScales holds {scale}; expected positive finite scales (1.0 is the image resolution, 0.5 half of it).", nameof(AttnScales));
        }
        CheckPerChannel(LatentsMean, nameof(LatentsMean), positive: false);
        CheckPerChannel(LatentsStd, nameof(LatentsStd), positive: true);
    }

    void CheckPerChannel(double[] values, string name, bool positive)
    {
        if (values is null || values.Length != ZDim)
            throw new ArgumentException($"QwenImageAutoencoderConfig.{name} has {values?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} values; expected {ZDim}, one per latent channel (ZDim).", name);
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]) || (positive && values[i] <= 0))
                throw new ArgumentException($"QwenImageAutoencoderConfig.{name}[{i}] is {values[i]}; expected a {(positive ? "positive " : "")}finite value.", name);
        }
    }
}

/// <summary>
/// diffusers' AutoencoderKLQwenImage for single images, with its exact state-dict keys and shapes (the causal 3-D
/// convolutions keep their 5-D weights [out, in, t, kh, kw]), so a vae/diffusion_pytorch_model.safetensors loads by
/// identity. diffusers treats an image as a one-frame video: <c>_decode</c> and <c>_encode</c> run the first (here the
/// only) chunk with an empty feature cache, so every causal convolution pads the frame axis with zeros in front
/// (2 * temporal padding frames) and its output frame sees the image through the last temporal kernel slice alone,
/// and the temporal up/down-sampling convolutions (time_conv) are skipped on that first chunk. Each layer is therefore
/// a 2-D operation on [B, C, H, W]; see <see cref="QwenImageCausalConv3d"/> and <see cref="QwenImageResample"/>.
/// </summary>
public sealed class QwenImageAutoencoder : nn.Module
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly QwenImageEncoder3d encoder;
    public readonly QwenImageCausalConv3d quant_conv;
    public readonly QwenImageCausalConv3d post_quant_conv;
    public readonly QwenImageDecoder3d decoder;
#pragma warning restore IDE1006, CA1051

    public QwenImageAutoencoder(QwenImageAutoencoderConfig config, ScalarType? dtype = null, Device? device = null)
        : base(nameof(QwenImageAutoencoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        encoder = new QwenImageEncoder3d(config, dtype, device);
        quant_conv = new QwenImageCausalConv3d(2L * config.ZDim, 2L * config.ZDim, 1, dtype, device);
        post_quant_conv = new QwenImageCausalConv3d(config.ZDim, config.ZDim, 1, dtype, device);
        decoder = new QwenImageDecoder3d(config, dtype, device);
        RegisterComponents();
    }

    public QwenImageAutoencoderConfig Config { get; }

    /// <summary>8 for Qwen-Image: images are this many times larger than latents per side.</summary>
    public int DownsampleFactor => Config.DownsampleFactor;

    public int ZChannels => Config.ZDim;

    /// <summary>
    /// The sampler's normalised latents [B, ZChannels, h, w] to images [B, 3, h * f, w * f] in [-1, 1], in the model's
    /// dtype: z * latents_std + latents_mean per channel (in float32), post_quant_conv, the decoder, then the clamp
    /// diffusers' _decode applies.
    /// </summary>
    public Tensor Decode(Tensor z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.dim() != 4 || z.shape[1] != Config.ZDim)
            throw new ArgumentException($"Latent has shape [{string.Join(", ", z.shape)}]; expected [B, {Config.ZDim}, h, w].", nameof(z));
        using var scope = NewDisposeScope();
        var (dtype, device) = (post_quant_conv.weight.dtype, post_quant_conv.weight.device);
        var latent = z.to(ScalarType.Float32, device).mul(PerChannel(Config.LatentsStd, device)).PlusInPlace(PerChannel(Config.LatentsMean, device)).to(dtype);
        var h = QwenImageLayers.Replace(latent, post_quant_conv.forward(latent));
        h = QwenImageLayers.Replace(h, decoder.forward(h));
        return h.Clamped(-1, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Images [B, 3, H, W] in [-1, 1] (H and W multiples of <see cref="DownsampleFactor"/>) to normalised latents
    /// [B, ZChannels, H / f, W / f] in the model's dtype: the posterior mean (the first ZChannels of quant_conv's output),
    /// then (mean - latents_mean) / latents_std per channel, in float32.
    /// </summary>
    public Tensor Encode(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int f = Config.DownsampleFactor;
        if (images.dim() != 4 || images.shape[1] != QwenImageAutoencoderConfig.ImageChannels)
            throw new ArgumentException($"Image has shape [{string.Join(", ", images.shape)}]; expected [B, {QwenImageAutoencoderConfig.ImageChannels}, H, W].", nameof(images));
        if (images.shape[2] % f != 0 || images.shape[3] % f != 0)
            throw new ArgumentException($"Image size is {images.shape[2]}x{images.shape[3]}; expected both sides to be multiples of {f}.", nameof(images));
        using var scope = NewDisposeScope();
        var (dtype, device) = (quant_conv.weight.dtype, quant_conv.weight.device);
        var h = encoder.forward(images.to(dtype, device));
        h = QwenImageLayers.Replace(h, quant_conv.forward(h));
        var mean = h.narrow(1, 0, Config.ZDim).to(ScalarType.Float32);
        return mean.sub(PerChannel(Config.LatentsMean, device)).div(PerChannel(Config.LatentsStd, device)).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Per-channel constants as float32 [1, C, 1, 1], as the pipeline builds them (torch.tensor of the config list).</summary>
    static Tensor PerChannel(double[] values, Device device) =>
        tensor(Array.ConvertAll(values, v => (float)v), [1, values.Length, 1, 1], device: device);
}

/// <summary>
/// diffusers' QwenImageEncoder3d: conv_in, a flat down_blocks list (per level: resnets, an attention block after each
/// resnet whose scale is in attn_scales, then a resample on all but the last level), mid block, RMS norm, SiLU,
/// conv_out to 2 * ZDim channels (mean, then log-variance).
/// </summary>
public sealed class QwenImageEncoder3d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly QwenImageCausalConv3d conv_in;
    public readonly ModuleList<nn.Module<Tensor, Tensor>> down_blocks;
    public readonly QwenImageMidBlock mid_block;
    public readonly QwenImageRmsNorm norm_out;
    public readonly QwenImageCausalConv3d conv_out;
#pragma warning restore IDE1006, CA1051

    internal QwenImageEncoder3d(QwenImageAutoencoderConfig config, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageEncoder3d))
    {
        long Width(int level) => (long)config.BaseDim * (level == 0 ? 1 : config.DimMult[level - 1]);
        conv_in = new QwenImageCausalConv3d(QwenImageAutoencoderConfig.ImageChannels, Width(0), 3, dtype, device);
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        int levels = config.DimMult.Length;
        double scale = 1.0;
        long width = Width(0);
        for (int i = 0; i < levels; i++)
        {
            long outWidth = Width(i + 1);
            for (int r = 0; r < config.NumResBlocks; r++)
            {
                blocks.Add(new QwenImageResidualBlock(width, outWidth, dtype, device));
                // diffusers tests `scale in attn_scales`; scales are powers of two, exact in binary.
                if (config.AttnScales.Contains(scale)) blocks.Add(new QwenImageAttentionBlock(outWidth, dtype, device));
                width = outWidth;
            }
            if (i != levels - 1)
            {
                var mode = config.TemperalDownsample[i] ? QwenImageResampleMode.Downsample3d : QwenImageResampleMode.Downsample2d;
                blocks.Add(new QwenImageResample(width, mode, dtype, device));
                scale /= 2;
            }
        }
        down_blocks = nn.ModuleList(blocks.ToArray());
        mid_block = new QwenImageMidBlock(width, dtype, device);
        norm_out = new QwenImageRmsNorm(width, imageShaped: false, dtype, device);
        conv_out = new QwenImageCausalConv3d(width, 2L * config.ZDim, 3, dtype, device);
        RegisterComponents();
    }

    /// <summary>Image [B, 3, H, W] to moments [B, 2 * ZDim, H / f, W / f], before quant_conv.</summary>
    public override Tensor forward(Tensor input)
    {
        var h = conv_in.forward(input);
        foreach (var block in down_blocks) h = QwenImageLayers.Replace(h, block.forward(h));
        h = QwenImageLayers.Replace(h, mid_block.forward(h));
        h = QwenImageLayers.Replace(h, norm_out.forward(h));
        h = QwenImageLayers.Replace(h, nn.functional.silu(h));
        return QwenImageLayers.Replace(h, conv_out.forward(h));
    }
}

/// <summary>
/// diffusers' QwenImageDecoder3d: conv_in, mid block, up_blocks from the deepest level (each num_res_blocks + 1
/// resnets, then, on all but the last, an upsampler that doubles the size and halves the channels), RMS norm, SiLU,
/// conv_out to RGB. Its attn_scales are stored but never used by diffusers, so no up block holds attention.
/// </summary>
public sealed class QwenImageDecoder3d : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006, CA1051 // the field names are the checkpoint's key names
    public readonly QwenImageCausalConv3d conv_in;
    public readonly QwenImageMidBlock mid_block;
    public readonly ModuleList<QwenImageUpBlock> up_blocks;
    public readonly QwenImageRmsNorm norm_out;
    public readonly QwenImageCausalConv3d conv_out;
#pragma warning restore IDE1006, CA1051

    internal QwenImageDecoder3d(QwenImageAutoencoderConfig config, ScalarType? dtype, Device? device)
        : base(nameof(QwenImageDecoder3d))
    {
        int levels = config.DimMult.Length;
        // diffusers: dims = base_dim * ([dim_mult[-1]] + dim_mult[::-1]); temperal_upsample = temperal_downsample[::-1].
        long Width(int i) => (long)config.BaseDim * (i == 0 ? config.DimMult[levels - 1] : config.DimMult[levels - i]);
        conv_in = new QwenImageCausalConv3d(config.ZDim, Width(0), 3, dtype, device);
        mid_block = new QwenImageMidBlock(Width(0), dtype, device);
        var blocks = new QwenImageUpBlock[levels];
        for (int i = 0; i < levels; i++)
        {
            // Every block after the first receives the previous upsampler's halved channels.
            long inWidth = i == 0 ? Width(0) : Width(i) / 2;
            QwenImageResampleMode? mode = i == levels - 1 ? null
                : config.TemperalDownsample[levels - 2 - i] ? QwenImageResampleMode.Upsample3d : QwenImageResampleMode.Upsample2d;
            blocks[i] = new QwenImageUpBlock(inWidth, Width(i + 1), config.NumResBlocks + 1, mode, dtype, device);
        }
        up_blocks = nn.ModuleList(blocks);
        long width = Width(levels);
        norm_out = new QwenImageRmsNorm(width, imageShaped: false, dtype, device);
        conv_out = new QwenImageCausalConv3d(width, QwenImageAutoencoderConfig.ImageChannels, 3, dtype, device);
        RegisterComponents();
    }

    /// <summary>Latent [B, ZDim, h, w] (after post_quant_conv) to an unclamped image [B, 3, h * f, w * f].</summary>
    public override Tensor forward(Tensor input)
    {
        var h = conv_in.forward(input);
        h = QwenImageLayers.Replace(h, mid_block.forward(h));
        foreach (var block in up_blocks) h = QwenImageLayers.Replace(h, block.forward(h));
        h = QwenImageLayers.Replace(h, norm_out.forward(h));
        h = QwenImageLayers.Replace(h, nn.functional.silu(h));
        return QwenImageLayers.Replace(h, conv_out.forward(h));
    }
}
