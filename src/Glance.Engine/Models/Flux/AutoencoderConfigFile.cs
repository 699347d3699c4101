using System.Text.Json;
using Glance.Engine.Checkpoints;

namespace Glance.Engine.Models.Flux;

public sealed partial record AutoencoderConfig
{
    const string DiffusersClassName = "AutoencoderKL";
    const string EncoderBlockType = "DownEncoderBlock2D";
    const string DecoderBlockType = "UpDecoderBlock2D";

    /// <summary>
    /// The autoencoder described by a diffusers <c>AutoencoderKL</c> config.json (vae/config.json of a FLUX.1 snapshot).
    /// <list type="bullet">
    /// <item><c>block_out_channels</c> gives <see cref="Ch"/> (its first entry) and <see cref="ChMult"/> (each entry
    /// divided by the first): diffusers' first level keeps conv_in's width, as BFL's level 0 does with multiplier 1.</item>
    /// <item><c>layers_per_block</c> gives <see cref="NumResBlocks"/> (both layouts give decoder levels one more),
    /// <c>latent_channels</c> <see cref="ZChannels"/>, <c>in_channels</c>/<c>out_channels</c> <see cref="InChannels"/>/
    /// <see cref="OutCh"/>, <c>sample_size</c> <see cref="Resolution"/> (its first entry when it is a pair),
    /// <c>scaling_factor</c>/<c>shift_factor</c> <see cref="ScaleFactor"/>/<see cref="ShiftFactor"/> (a null shift is 0,
    /// what the latents see when a pipeline applies none).</item>
    /// <item>Absent fields take the defaults of AutoencoderKL's constructor: in/out 3, one DownEncoderBlock2D and
    /// one UpDecoderBlock2D, block_out_channels [64], layers_per_block 1, silu, latent_channels 4, norm_num_groups 32,
    /// sample_size 32, scaling_factor 0.18215, shift_factor and latents_mean/std null, use_quant_conv and
    /// use_post_quant_conv true, mid_block_add_attention true. An older file that omits use_quant_conv therefore
    /// declares a quant_conv, and is refused like one that says so.</item>
    /// <item>Refused, as <see cref="InvalidDataException"/> naming the file, the field, the value found and what is
    /// supported: use_quant_conv or use_post_quant_conv true (<see cref="AutoEncoder"/> has neither layer; FLUX's VAE
    /// neither), block types other than DownEncoderBlock2D / UpDecoderBlock2D or type lists whose length differs from
    /// block_out_channels, act_fn other than silu (diffusers' "swish" is the same function), norm_num_groups other
    /// than <see cref="NormGroups"/>, block_out_channels that are not whole multiples of a first entry divisible by
    /// <see cref="NormGroups"/>, mid_block_add_attention false, non-null latents_mean / latents_std (a per-channel
    /// latent normalisation this config cannot express), and a _class_name other than AutoencoderKL.</item>
    /// <item><c>force_upcast</c> is type-checked and ignored: it asks diffusers pipelines running in float16 to run
    /// the VAE in float32 instead. It changes no weight or layer, and the engine runs autoencoders in float32 or
    /// bfloat16, whose exponent range is float32's, so the float16 overflow it avoids cannot occur.</item>
    /// </list>
    /// Unknown fields (_diffusers_version, _name_or_path, ...) are ignored.
    /// </summary>
    public static AutoencoderConfig FromDiffusers(string configJsonPath)
    {
        // diffusers would pass a null to AutoencoderKL as None, which only shift_factor and latents_mean/std accept.
        var f = JsonConfigFile.Read(configJsonPath, nullIsAbsent: false);
        string? className = f.Text("_class_name", null);
        if (className is not null && className != DiffusersClassName)
            throw f.Unsupported("_class_name", className, $"supported: \"{DiffusersClassName}\"");
        if (f.Bool("use_quant_conv", true))
            throw f.Unsupported("use_quant_conv", true, "supported: false (the autoencoder has no quant_conv, as in FLUX.1)");
        if (f.Bool("use_post_quant_conv", true))
            throw f.Unsupported("use_post_quant_conv", true, "supported: false (the autoencoder has no post_quant_conv, as in FLUX.1)");
        if (!f.Bool("mid_block_add_attention", true))
            throw f.Unsupported("mid_block_add_attention", false, "supported: true (the mid blocks always hold one attention layer)");
        _ = f.Bool("force_upcast", true); // a float16 pipeline hint; see the summary

        string act = f.Text("act_fn", "silu")!;
        if (act is not ("silu" or "swish")) throw f.Unsupported("act_fn", act, "supported: \"silu\" (or its alias \"swish\")");
        int groups = f.Whole("norm_num_groups", 32);
        if (groups != NormGroups) throw f.Unsupported("norm_num_groups", groups, $"supported: {NormGroups}");
        foreach (string name in (string[])["latents_mean", "latents_std"])
        {
            if (f.Has(name)) throw f.UnsupportedAsWritten(name, "supported: null (only scaling_factor and shift_factor normalise the latents)");
        }

        int[] widths = f.Integers("block_out_channels", [64])!;
        int ch = widths.Length == 0 ? 0 : widths[0];
        if (widths.Length == 0 || ch <= 0 || ch % NormGroups != 0)
            throw f.Unsupported("block_out_channels", widths, $"supported: a non-empty list whose first entry is a positive multiple of {NormGroups} (GroupNorm uses {NormGroups} groups)");
        var chMult = new int[widths.Length];
        for (int i = 0; i < widths.Length; i++)
        {
            if (widths[i] <= 0 || widths[i] % ch != 0)
                throw f.Unsupported("block_out_channels", widths, $"supported: whole positive multiples of the first entry {ch} (entry {i} is {widths[i]}); the BFL layout writes each level's width as ch * ch_mult");
            chMult[i] = widths[i] / ch;
        }
        CheckBlockTypes(f, "down_block_types", EncoderBlockType, widths.Length);
        CheckBlockTypes(f, "up_block_types", DecoderBlockType, widths.Length);

        var config = new AutoencoderConfig(
            Resolution: SampleSize(f),
            InChannels: f.Whole("in_channels", 3),
            Ch: ch,
            OutCh: f.Whole("out_channels", 3),
            ChMult: chMult,
            NumResBlocks: f.Whole("layers_per_block", 1),
            ZChannels: f.Whole("latent_channels", 4),
            ScaleFactor: f.Number("scaling_factor", 0.18215),
            ShiftFactor: f.Has("shift_factor") ? f.Number("shift_factor", 0) : 0);
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{f.Path}' describes an autoencoder that cannot be built: {e.Message}", e);
        }
        return config;
    }

    /// <summary>diffusers iterates the type list and indexes block_out_channels with it, so the lengths must agree.</summary>
    static void CheckBlockTypes(JsonConfigFile f, string field, string supported, int levels)
    {
        string[]? types = f.Texts(field, null);
        foreach (string type in types ?? [supported])
        {
            if (type != supported) throw f.Unsupported(field, types, $"supported: only \"{supported}\" entries");
        }
        string perLevel = $"supported: one \"{supported}\" per block_out_channels entry ({levels})";
        if (types is null && levels != 1) throw f.UnsupportedDefault(field, new[] { supported }, perLevel);
        if (types is not null && types.Length != levels) throw f.Unsupported(field, types, perLevel);
    }

    /// <summary>sample_size is an int or an [height, width] pair; diffusers' tiling reads the first entry of a pair.</summary>
    static int SampleSize(JsonConfigFile f)
    {
        if (f.Kind("sample_size") != JsonValueKind.Array) return f.Whole("sample_size", 32);
        int[] sides = f.Integers("sample_size", null)!;
        return sides.Length > 0 ? sides[0] : throw f.UnsupportedAsWritten("sample_size", "expected an integer or a non-empty list of integers");
    }
}
