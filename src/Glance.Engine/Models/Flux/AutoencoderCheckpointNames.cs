using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

/// <summary>
/// One autoencoder tensor under both names: <see cref="AutoEncoder"/>'s (the keys of BFL's ae.safetensors) and diffusers'
/// AutoencoderKL's, with the shape each layout stores.
/// </summary>
public sealed record AutoencoderTensorName(string BflKey, long[] BflShape, string DiffusersKey, long[] DiffusersShape)
{
    /// <summary>The mid attention projections: a Linear [C, C] in diffusers, a 1x1 convolution [C, C, 1, 1] in BFL.</summary>
    public bool Reshaped => BflShape.Length != DiffusersShape.Length;
}

/// <summary>
/// The one place where autoencoder weight names are translated, for one <see cref="AutoencoderConfig"/> (diffusers
/// numbers decoder levels from the deepest, so the level count is needed). diffusers to BFL:
/// up_blocks.i = up.(levels - 1 - i); down_blocks.i = down.i; resnets.j = block.j; conv_shortcut = nin_shortcut;
/// downsamplers.0.conv = downsample.conv; upsamplers.0.conv = upsample.conv; mid_block.resnets.0/1 = mid.block_1/2;
/// mid_block.attentions.0.{group_norm, to_q, to_k, to_v, to_out.0} = mid.attn_1.{norm, q, k, v, proj_out}, also under
/// the names older diffusers files use (query, key, value, proj_attn); conv_norm_out = norm_out; conv_in, conv_out
/// unchanged. BFL's ae.safetensors holds exactly <see cref="AutoEncoder"/>'s state dict: its AutoEncoder registers
/// parameters only under encoder and decoder (the per-level attention lists are empty, the Gaussian sampler and
/// scale/shift hold no tensors), so its mapping is the identity over the same key set.
/// </summary>
public sealed class AutoencoderCheckpointNames
{
    // Attention projection names of diffusers' pre-0.14 AttentionBlock, renamed on load by diffusers itself.
    static readonly Dictionary<string, string> LegacyAttentionNames = new(StringComparer.Ordinal)
    {
        ["query"] = "to_q",
        ["key"] = "to_k",
        ["value"] = "to_v",
        ["proj_attn"] = "to_out.0",
    };

    readonly Dictionary<string, AutoencoderTensorName> _byDiffusers;
    readonly Dictionary<string, AutoencoderTensorName> _byBfl;

    public AutoencoderCheckpointNames(AutoencoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        Tensors = Build(config);
        _byDiffusers = Tensors.ToDictionary(t => t.DiffusersKey, StringComparer.Ordinal);
        _byBfl = Tensors.ToDictionary(t => t.BflKey, StringComparer.Ordinal);
    }

    public AutoencoderConfig Config { get; }

    /// <summary>Every tensor of the autoencoder, once each.</summary>
    public IReadOnlyList<AutoencoderTensorName> Tensors { get; }

    /// <summary>
    /// Where a diffusers vae/diffusion_pytorch_model.safetensors tensor goes in <see cref="AutoEncoder"/>'s state dict; the
    /// attention projections with <see cref="TensorPlacement.Reshape"/>. Null for a key this autoencoder does not have
    /// (quant_conv, a level beyond the config, ...), so that the loader fails naming it.
    /// </summary>
    public IReadOnlyList<TensorPlacement>? MapDiffusersKey(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        if (!_byDiffusers.TryGetValue(key, out var name) && !_byDiffusers.TryGetValue(ModernAttentionName(key), out name)) return null;
        return [new TensorPlacement(name.BflKey, Reshape: name.Reshaped)];
    }

    /// <summary><see cref="MapDiffusersKey"/> of <paramref name="config"/>'s name table, as the placement loader's key mapping.</summary>
    public static PlacedCheckpointLoader.KeyMapping DiffusersPlacements(AutoencoderConfig config) => new AutoencoderCheckpointNames(config).MapDiffusersKey;

    /// <summary>BFL's ae.safetensors: the identity over this autoencoder's keys; null for any other key.</summary>
    public IReadOnlyList<TensorPlacement>? MapBflKey(string key, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        return _byBfl.ContainsKey(key) ? [new TensorPlacement(key)] : null;
    }

    /// <summary>
    /// The inverse of <see cref="MapDiffusersKey"/>: an <see cref="AutoEncoder"/> state dict under diffusers' names and shapes,
    /// as a diffusers vae/diffusion_pytorch_model.safetensors stores it (for writing such files in tests and fixtures).
    /// Each returned tensor is a new view (or, for a non-contiguous input, a copy) that the caller disposes. Fails naming
    /// the key when the state dict lacks a tensor, has an extra one, or has one of another shape.
    /// </summary>
    public static Dictionary<string, Tensor> ToDiffusers(IReadOnlyDictionary<string, Tensor> bflState, AutoencoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(bflState);
        var names = new AutoencoderCheckpointNames(config);
        foreach (string key in bflState.Keys)
        {
            if (!names._byBfl.ContainsKey(key))
                throw new ArgumentException($"State dict key '{key}' is not a tensor of the autoencoder {Describe(config)}.", nameof(bflState));
        }
        foreach (var name in names.Tensors)
        {
            if (!bflState.TryGetValue(name.BflKey, out var tensor))
                throw new ArgumentException($"State dict lacks '{name.BflKey}', which the autoencoder {Describe(config)} has.", nameof(bflState));
            if (!tensor.shape.SequenceEqual(name.BflShape))
                throw new ArgumentException($"State dict tensor '{name.BflKey}' has shape [{string.Join(", ", tensor.shape)}]; expected [{string.Join(", ", name.BflShape)}].", nameof(bflState));
        }
        using var scope = NewDisposeScope();
        return names.Tensors.ToDictionary(
            name => name.DiffusersKey,
            name => bflState[name.BflKey].detach().reshape(name.DiffusersShape).MoveToOuterDisposeScope(),
            StringComparer.Ordinal);
    }

    internal static string Describe(AutoencoderConfig config) =>
        $"(ch {config.Ch}, ch_mult [{string.Join(", ", config.ChMult)}], {config.NumResBlocks} res blocks, z {config.ZChannels})";

    /// <summary>"...attentions.0.query.weight" to "...attentions.0.to_q.weight"; other keys unchanged.</summary>
    static string ModernAttentionName(string key)
    {
        int parameterDot = key.LastIndexOf('.');
        if (parameterDot <= 0) return key;
        int moduleDot = key.LastIndexOf('.', parameterDot - 1);
        string module = key[(moduleDot + 1)..parameterDot];
        return LegacyAttentionNames.TryGetValue(module, out var modern) ? $"{key[..(moduleDot + 1)]}{modern}{key[parameterDot..]}" : key;
    }

    static List<AutoencoderTensorName> Build(AutoencoderConfig c)
    {
        var names = new List<AutoencoderTensorName>();
        int levels = c.ChMult.Length;
        long Width(int level) => (long)c.Ch * c.ChMult[level];

        void Same(string bfl, string diffusers, long[] shape) => names.Add(new(bfl, shape, diffusers, shape));

        void Conv(string bfl, string diffusers, long outChannels, long inChannels, long kernel)
        {
            Same($"{bfl}.weight", $"{diffusers}.weight", [outChannels, inChannels, kernel, kernel]);
            Same($"{bfl}.bias", $"{diffusers}.bias", [outChannels]);
        }

        void Norm(string bfl, string diffusers, long channels)
        {
            Same($"{bfl}.weight", $"{diffusers}.weight", [channels]);
            Same($"{bfl}.bias", $"{diffusers}.bias", [channels]);
        }

        void Resnet(string bfl, string diffusers, long inChannels, long outChannels)
        {
            Norm($"{bfl}.norm1", $"{diffusers}.norm1", inChannels);
            Conv($"{bfl}.conv1", $"{diffusers}.conv1", outChannels, inChannels, 3);
            Norm($"{bfl}.norm2", $"{diffusers}.norm2", outChannels);
            Conv($"{bfl}.conv2", $"{diffusers}.conv2", outChannels, outChannels, 3);
            if (inChannels != outChannels) Conv($"{bfl}.nin_shortcut", $"{diffusers}.conv_shortcut", outChannels, inChannels, 1);
        }

        void Mid(string side, long channels)
        {
            Resnet($"{side}.mid.block_1", $"{side}.mid_block.resnets.0", channels, channels);
            Norm($"{side}.mid.attn_1.norm", $"{side}.mid_block.attentions.0.group_norm", channels);
            foreach (var (bfl, diffusers) in (ReadOnlySpan<(string, string)>)[("q", "to_q"), ("k", "to_k"), ("v", "to_v"), ("proj_out", "to_out.0")])
            {
                names.Add(new($"{side}.mid.attn_1.{bfl}.weight", [channels, channels, 1, 1], $"{side}.mid_block.attentions.0.{diffusers}.weight", [channels, channels]));
                Same($"{side}.mid.attn_1.{bfl}.bias", $"{side}.mid_block.attentions.0.{diffusers}.bias", [channels]);
            }
            Resnet($"{side}.mid.block_2", $"{side}.mid_block.resnets.1", channels, channels);
        }

        Conv("encoder.conv_in", "encoder.conv_in", c.Ch, c.InChannels, 3);
        long width = c.Ch;
        for (int level = 0; level < levels; level++)
        {
            for (int j = 0; j < c.NumResBlocks; j++)
            {
                Resnet($"encoder.down.{level}.block.{j}", $"encoder.down_blocks.{level}.resnets.{j}", width, Width(level));
                width = Width(level);
            }
            if (level != levels - 1) Conv($"encoder.down.{level}.downsample.conv", $"encoder.down_blocks.{level}.downsamplers.0.conv", width, width, 3);
        }
        Mid("encoder", width);
        Norm("encoder.norm_out", "encoder.conv_norm_out", width);
        Conv("encoder.conv_out", "encoder.conv_out", 2L * c.ZChannels, width, 3);

        width = Width(levels - 1);
        Conv("decoder.conv_in", "decoder.conv_in", width, c.ZChannels, 3);
        Mid("decoder", width);
        for (int block = 0; block < levels; block++)
        {
            int level = levels - 1 - block;
            for (int j = 0; j <= c.NumResBlocks; j++)
            {
                Resnet($"decoder.up.{level}.block.{j}", $"decoder.up_blocks.{block}.resnets.{j}", width, Width(level));
                width = Width(level);
            }
            if (level != 0) Conv($"decoder.up.{level}.upsample.conv", $"decoder.up_blocks.{block}.upsamplers.0.conv", width, width, 3);
        }
        Norm("decoder.norm_out", "decoder.conv_norm_out", width);
        Conv("decoder.conv_out", "decoder.conv_out", c.OutCh, width, 3);
        return names;
    }
}
