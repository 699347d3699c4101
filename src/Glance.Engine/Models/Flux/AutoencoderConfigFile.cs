using System.Globalization;
using System.Text.Json;

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
        ArgumentNullException.ThrowIfNull(configJsonPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(configJsonPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{configJsonPath}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{configJsonPath}' holds a JSON {document.RootElement.ValueKind}; expected an object (a diffusers AutoencoderKL config).");
            return FromDiffusers(new DiffusersFields(document.RootElement, configJsonPath));
        }
    }

    static AutoencoderConfig FromDiffusers(DiffusersFields f)
    {
        string? className = f.OptionalString("_class_name");
        if (className is not null && className != DiffusersClassName)
            throw f.Unsupported("_class_name", $"\"{className}\"", $"\"{DiffusersClassName}\"");
        if (f.Bool("use_quant_conv", true))
            throw f.Unsupported("use_quant_conv", "true", "false (the autoencoder has no quant_conv, as in FLUX.1)");
        if (f.Bool("use_post_quant_conv", true))
            throw f.Unsupported("use_post_quant_conv", "true", "false (the autoencoder has no post_quant_conv, as in FLUX.1)");
        if (!f.Bool("mid_block_add_attention", true))
            throw f.Unsupported("mid_block_add_attention", "false", "true (the mid blocks always hold one attention layer)");
        _ = f.Bool("force_upcast", true); // a float16 pipeline hint; see the summary

        string act = f.String("act_fn", "silu");
        if (act is not ("silu" or "swish")) throw f.Unsupported("act_fn", $"\"{act}\"", "\"silu\" (or its alias \"swish\")");
        int groups = f.Int("norm_num_groups", 32);
        if (groups != NormGroups) throw f.Unsupported("norm_num_groups", groups.ToString(CultureInfo.InvariantCulture), NormGroups.ToString(CultureInfo.InvariantCulture));
        foreach (string name in (string[])["latents_mean", "latents_std"])
        {
            if (!f.IsNullOrAbsent(name)) throw f.Unsupported(name, f.Raw(name), "null (only scaling_factor and shift_factor normalise the latents)");
        }

        int[] widths = f.IntArray("block_out_channels", [64]);
        int ch = widths.Length == 0 ? 0 : widths[0];
        if (widths.Length == 0 || ch <= 0 || ch % NormGroups != 0)
            throw f.Unsupported("block_out_channels", f.Raw("block_out_channels"), $"a non-empty list whose first entry is a positive multiple of {NormGroups} (GroupNorm uses {NormGroups} groups)");
        var chMult = new int[widths.Length];
        for (int i = 0; i < widths.Length; i++)
        {
            if (widths[i] <= 0 || widths[i] % ch != 0)
                throw f.Unsupported("block_out_channels", f.Raw("block_out_channels"), $"whole positive multiples of the first entry {ch} (entry {i} is {widths[i]}); the BFL layout writes each level's width as ch * ch_mult");
            chMult[i] = widths[i] / ch;
        }
        f.BlockTypes("down_block_types", EncoderBlockType, widths.Length);
        f.BlockTypes("up_block_types", DecoderBlockType, widths.Length);

        var config = new AutoencoderConfig(
            Resolution: f.SampleSize(),
            InChannels: f.Int("in_channels", 3),
            Ch: ch,
            OutCh: f.Int("out_channels", 3),
            ChMult: chMult,
            NumResBlocks: f.Int("layers_per_block", 1),
            ZChannels: f.Int("latent_channels", 4),
            ScaleFactor: f.Double("scaling_factor", 0.18215),
            ShiftFactor: f.IsNullOrAbsent("shift_factor") ? 0 : f.Double("shift_factor", 0));
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

    /// <summary>Typed access to a config.json's fields with diffusers' defaults; every error names the file and field.</summary>
    readonly struct DiffusersFields(JsonElement root, string path)
    {
        public string Path { get; } = path;

        public InvalidDataException Unsupported(string field, string found, string supported) =>
            new($"'{Path}': field '{field}' is {found}; supported: {supported}.");

        public string Raw(string field) => root.TryGetProperty(field, out var value) ? value.GetRawText() : "absent";

        public bool IsNullOrAbsent(string field) => !root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null;

        InvalidDataException WrongKind(string field, JsonElement value, string expected) =>
            new($"'{Path}': field '{field}' is {value.GetRawText()}; expected {expected}.");

        public bool Bool(string field, bool fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw WrongKind(field, value, "true or false"),
            };
        }

        public string? OptionalString(string field)
        {
            if (!root.TryGetProperty(field, out var value)) return null;
            return value.ValueKind == JsonValueKind.String ? value.GetString() : throw WrongKind(field, value, "a string");
        }

        public string String(string field, string fallback) => OptionalString(field) ?? fallback;

        public int Int(string field, int fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            return AsInt(field, value);
        }

        int AsInt(string field, JsonElement value) =>
            value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result) ? result : throw WrongKind(field, value, "an integer");

        public double Double(string field, double fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw WrongKind(field, value, "a number");
        }

        public int[] IntArray(string field, int[] fallback)
        {
            if (!root.TryGetProperty(field, out var value)) return fallback;
            if (value.ValueKind != JsonValueKind.Array) throw WrongKind(field, value, "a list of integers");
            var self = this;
            return [.. value.EnumerateArray().Select(item => self.AsInt(field, item))];
        }

        /// <summary>diffusers iterates the type list and indexes block_out_channels with it, so the lengths must agree.</summary>
        public void BlockTypes(string field, string supported, int levels)
        {
            string[] types = [supported];
            if (root.TryGetProperty(field, out var value))
            {
                if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(t => t.ValueKind != JsonValueKind.String))
                    throw WrongKind(field, value, "a list of block type names");
                types = [.. value.EnumerateArray().Select(t => t.GetString()!)];
            }
            foreach (string type in types)
            {
                if (type != supported) throw Unsupported(field, Raw(field), $"only \"{supported}\" entries");
            }
            if (types.Length != levels)
                throw Unsupported(field, Raw(field) == "absent" ? $"absent (default [\"{supported}\"])" : Raw(field), $"one \"{supported}\" per block_out_channels entry ({levels})");
        }

        /// <summary>sample_size is an int or an [height, width] pair; diffusers' tiling reads the first entry of a pair.</summary>
        public int SampleSize()
        {
            if (!root.TryGetProperty("sample_size", out var value)) return 32;
            if (value.ValueKind == JsonValueKind.Array)
            {
                int[] sides = IntArray("sample_size", []);
                return sides.Length > 0 ? sides[0] : throw WrongKind("sample_size", value, "an integer or a non-empty list of integers");
            }
            return AsInt("sample_size", value);
        }
    }
}
