using Glance.Engine.Models.Flux;
using System.Runtime.CompilerServices;
using Glance.Engine.Checkpoints;
using Glance.Engine.Lora;
using static TorchSharp.torch;

namespace Glance.Engine.Models.Flux;

/// <summary>How a FLUX.1 file names its transformer weights.</summary>
public enum FluxCheckpointLayout
{
    /// <summary>Black Forest Labs names, as the model's state dict (double_blocks.N.img_attn.qkv, ...).</summary>
    Bfl,

    /// <summary>BFL names under "model.diffusion_model.", as ComfyUI saves them.</summary>
    ComfyUi,

    /// <summary>diffusers FluxTransformer2DModel names (transformer_blocks.N.attn.to_q, ...), q/k/v unfused.</summary>
    Diffusers,
}

/// <summary>
/// The one place where FLUX.1 weight names are translated: diffusers (and ComfyUI) names to the BFL names
/// of <see cref="FluxTransformer"/>'s state dict, whole files or single modules (for adapters).
/// </summary>
public static class FluxCheckpointNames
{
    public const string ComfyUiPrefix = "model.diffusion_model.";
    public const string DiffusersPrefix = "transformer.";

    // Top-level module names that exist only in the diffusers layout.
    static readonly string[] DiffusersRoots =
        ["transformer_blocks.", "single_transformer_blocks.", "x_embedder.", "context_embedder.", "time_text_embed.", "norm_out.", "proj_out."];

    static readonly ConditionalWeakTable<FluxConfig, LinkTable> Tables = new();

    enum LinkKind
    {
        Linear,
        RmsNorm,
        SwappedHalves,
    }

    /// <summary>A diffusers module that owns rows [RowOffset, RowOffset + Rows) of a BFL module with BflRows rows.</summary>
    sealed record ModuleLink(string Diffusers, string Bfl, long RowOffset, long Rows, long BflRows, bool HasBias, LinkKind Kind)
    {
        /// <summary>(diffusers parameter, BFL parameter) pairs.</summary>
        public IEnumerable<(string Diffusers, string Bfl)> Parameters()
        {
            if (Kind == LinkKind.RmsNorm)
            {
                yield return ("weight", "scale");
                yield break;
            }
            yield return ("weight", "weight");
            if (HasBias) yield return ("bias", "bias");
        }
    }

    sealed class LinkTable
    {
        public LinkTable(FluxConfig config)
        {
            Links = [.. BuildLinks(config)];
            ByDiffusersModule = Links.ToDictionary(l => l.Diffusers, StringComparer.Ordinal);
            ByDiffusersKey = Links
                .SelectMany(l => l.Parameters().Select(p => (Key: $"{l.Diffusers}.{p.Diffusers}", Link: l, BflKey: $"{l.Bfl}.{p.Bfl}")))
                .ToDictionary(x => x.Key, x => (x.Link, x.BflKey), StringComparer.Ordinal);
            PiecesByBflKey = Links
                .SelectMany(l => l.Parameters().Select(p => (BflKey: $"{l.Bfl}.{p.Bfl}", DiffusersKey: $"{l.Diffusers}.{p.Diffusers}", Link: l)))
                .GroupBy(x => x.BflKey, StringComparer.Ordinal)
                .ToDictionary(
                    g => g.Key,
                    g => (IReadOnlyList<(string DiffusersKey, ModuleLink Link)>)[.. g.OrderBy(x => x.Link.RowOffset).Select(x => (x.DiffusersKey, x.Link))],
                    StringComparer.Ordinal);
            BflKeys = PiecesByBflKey.Keys.ToHashSet(StringComparer.Ordinal);
        }

        public IReadOnlyList<ModuleLink> Links { get; }
        public Dictionary<string, ModuleLink> ByDiffusersModule { get; }
        public Dictionary<string, (ModuleLink Link, string BflKey)> ByDiffusersKey { get; }
        public Dictionary<string, IReadOnlyList<(string DiffusersKey, ModuleLink Link)>> PiecesByBflKey { get; }
        public HashSet<string> BflKeys { get; }
    }

    static LinkTable TableFor(FluxConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Tables.GetValue(config, c => new LinkTable(c.Validate()));
    }

    static IEnumerable<ModuleLink> BuildLinks(FluxConfig c)
    {
        long h = c.HiddenSize, mlp = c.MlpHiddenSize, head = c.HeadDim;
        ModuleLink Whole(string diffusers, string bfl, long rows) => new(diffusers, bfl, 0, rows, rows, true, LinkKind.Linear);

        yield return Whole("x_embedder", "img_in", h);
        yield return Whole("context_embedder", "txt_in", h);
        yield return Whole("time_text_embed.timestep_embedder.linear_1", "time_in.in_layer", h);
        yield return Whole("time_text_embed.timestep_embedder.linear_2", "time_in.out_layer", h);
        yield return Whole("time_text_embed.text_embedder.linear_1", "vector_in.in_layer", h);
        yield return Whole("time_text_embed.text_embedder.linear_2", "vector_in.out_layer", h);
        if (c.GuidanceEmbed)
        {
            yield return Whole("time_text_embed.guidance_embedder.linear_1", "guidance_in.in_layer", h);
            yield return Whole("time_text_embed.guidance_embedder.linear_2", "guidance_in.out_layer", h);
        }

        for (int i = 0; i < c.Depth; i++)
        {
            string d = $"transformer_blocks.{i}", b = $"double_blocks.{i}";
            foreach (var (part, offset) in new[] { ("q", 0L), ("k", h), ("v", 2 * h) })
            {
                yield return new($"{d}.attn.to_{part}", $"{b}.img_attn.qkv", offset, h, 3 * h, c.QkvBias, LinkKind.Linear);
                yield return new($"{d}.attn.add_{part}_proj", $"{b}.txt_attn.qkv", offset, h, 3 * h, c.QkvBias, LinkKind.Linear);
            }
            yield return Whole($"{d}.attn.to_out.0", $"{b}.img_attn.proj", h);
            yield return Whole($"{d}.attn.to_add_out", $"{b}.txt_attn.proj", h);
            yield return new($"{d}.attn.norm_q", $"{b}.img_attn.norm.query_norm", 0, head, head, false, LinkKind.RmsNorm);
            yield return new($"{d}.attn.norm_k", $"{b}.img_attn.norm.key_norm", 0, head, head, false, LinkKind.RmsNorm);
            yield return new($"{d}.attn.norm_added_q", $"{b}.txt_attn.norm.query_norm", 0, head, head, false, LinkKind.RmsNorm);
            yield return new($"{d}.attn.norm_added_k", $"{b}.txt_attn.norm.key_norm", 0, head, head, false, LinkKind.RmsNorm);
            yield return Whole($"{d}.norm1.linear", $"{b}.img_mod.lin", 6 * h);
            yield return Whole($"{d}.norm1_context.linear", $"{b}.txt_mod.lin", 6 * h);
            yield return Whole($"{d}.ff.net.0.proj", $"{b}.img_mlp.0", mlp);
            yield return Whole($"{d}.ff.net.2", $"{b}.img_mlp.2", h);
            yield return Whole($"{d}.ff_context.net.0.proj", $"{b}.txt_mlp.0", mlp);
            yield return Whole($"{d}.ff_context.net.2", $"{b}.txt_mlp.2", h);
        }

        for (int i = 0; i < c.DepthSingleBlocks; i++)
        {
            string d = $"single_transformer_blocks.{i}", b = $"single_blocks.{i}";
            long fused = 3 * h + mlp;
            yield return new($"{d}.attn.to_q", $"{b}.linear1", 0, h, fused, true, LinkKind.Linear);
            yield return new($"{d}.attn.to_k", $"{b}.linear1", h, h, fused, true, LinkKind.Linear);
            yield return new($"{d}.attn.to_v", $"{b}.linear1", 2 * h, h, fused, true, LinkKind.Linear);
            yield return new($"{d}.proj_mlp", $"{b}.linear1", 3 * h, mlp, fused, true, LinkKind.Linear);
            yield return Whole($"{d}.proj_out", $"{b}.linear2", h);
            yield return Whole($"{d}.norm.linear", $"{b}.modulation.lin", 3 * h);
            yield return new($"{d}.attn.norm_q", $"{b}.norm.query_norm", 0, head, head, false, LinkKind.RmsNorm);
            yield return new($"{d}.attn.norm_k", $"{b}.norm.key_norm", 0, head, head, false, LinkKind.RmsNorm);
        }

        yield return Whole("proj_out", "final_layer.linear", c.InChannels);
        // diffusers' AdaLayerNormContinuous chunks (scale, shift); BFL's final layer chunks (shift, scale).
        yield return new("norm_out.linear", "final_layer.adaLN_modulation.1", 0, 2 * h, 2 * h, true, LinkKind.SwappedHalves);
    }

    /// <summary>Every state-dict key of a <see cref="FluxTransformer"/> built from <paramref name="config"/>.</summary>
    public static IReadOnlySet<string> BflKeys(FluxConfig config) => TableFor(config).BflKeys;

    /// <summary>
    /// Where a diffusers module (optionally prefixed "transformer.") lands in the BFL model, e.g.
    /// transformer_blocks.0.attn.to_k -> double_blocks.0.img_attn.qkv rows [H, 2H); null if it is not a FLUX.1 diffusers module.
    /// RMS norms map to their norm module (its parameter is "scale"). norm_out.linear maps to the whole
    /// final_layer.adaLN_modulation.1, whose two output halves are swapped: see <see cref="HasSwappedHalves"/>.
    /// </summary>
    public static ModuleSlice? MapDiffusersModule(string diffusersModule, FluxConfig config)
    {
        ArgumentNullException.ThrowIfNull(diffusersModule);
        if (!TableFor(config).ByDiffusersModule.TryGetValue(StripPrefix(diffusersModule, DiffusersPrefix), out var link)) return null;
        return new ModuleSlice(link.Bfl, link.RowOffset, link.Rows == link.BflRows ? null : link.Rows);
    }

    /// <summary>
    /// True for the diffusers module whose output rows are the BFL module's with its two halves swapped
    /// (norm_out.linear); an adapter's up weight for it must be swapped the same way.
    /// </summary>
    public static bool HasSwappedHalves(string diffusersModule)
    {
        ArgumentNullException.ThrowIfNull(diffusersModule);
        return StripPrefix(diffusersModule, DiffusersPrefix) == "norm_out.linear";
    }

    /// <summary>
    /// The placement of each key of a FLUX.1 transformer file (BFL, ComfyUI-prefixed or diffusers naming) in the BFL
    /// model: diffusers' split q/k/v and MLP input land on row slices of the fused weights, and norm_out.linear's two
    /// halves are swapped into final_layer.adaLN_modulation.1. Null for a key that is no parameter of this config.
    /// </summary>
    public static PlacedCheckpointLoader.KeyMapping Placements(FluxConfig config)
    {
        var table = TableFor(config);
        return (key, _) =>
        {
            string bfl = StripPrefix(key, ComfyUiPrefix);
            if (table.BflKeys.Contains(bfl)) return [new TensorPlacement(bfl)];
            if (!table.ByDiffusersKey.TryGetValue(StripPrefix(key, DiffusersPrefix), out var hit)) return null;
            var (link, bflKey) = hit;
            if (link.Kind != LinkKind.SwappedHalves) return [new TensorPlacement(bflKey, link.RowOffset)];
            long half = link.BflRows / 2;
            return [new TensorPlacement(bflKey, half, SourceRowOffset: 0, SourceRows: half), new TensorPlacement(bflKey, 0, SourceRowOffset: half, SourceRows: half)];
        };
    }

    /// <summary>Which naming a file's keys follow.</summary>
    public static FluxCheckpointLayout DetectLayout(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys as IReadOnlyCollection<string> ?? [.. keys];
        if (list.Any(k => DiffusersRoots.Any(root => StripPrefix(k, DiffusersPrefix).StartsWith(root, StringComparison.Ordinal))))
            return FluxCheckpointLayout.Diffusers;
        return list.Any(k => k.StartsWith(ComfyUiPrefix, StringComparison.Ordinal)) ? FluxCheckpointLayout.ComfyUi : FluxCheckpointLayout.Bfl;
    }

    /// <summary>
    /// Renames (and for diffusers files fuses) a FLUX.1 checkpoint to the model's BFL keys. Unchanged tensors
    /// are returned as the same instances; fused or swapped ones are new, and the caller still owns the inputs.
    /// Any key that is not a parameter of this config, and any parameter the file lacks, throws naming the key and file.
    /// </summary>
    public static Dictionary<string, Tensor> ToBfl(IReadOnlyDictionary<string, Tensor> checkpoint, FluxConfig config, string fileName)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var table = TableFor(config);
        return DetectLayout(checkpoint.Keys) == FluxCheckpointLayout.Diffusers
            ? FuseDiffusers(checkpoint, table, config, fileName)
            : RenameBfl(checkpoint, table, config, fileName);
    }

    static Dictionary<string, Tensor> RenameBfl(IReadOnlyDictionary<string, Tensor> checkpoint, LinkTable table, FluxConfig config, string fileName)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in checkpoint)
        {
            string name = StripPrefix(key, ComfyUiPrefix);
            if (!table.BflKeys.Contains(name)) throw Unexpected(key, fileName, config);
            if (!result.TryAdd(name, tensor))
                throw new InvalidDataException($"Key '{key}' in '{fileName}' repeats parameter '{name}' (present with and without the '{ComfyUiPrefix}' prefix).");
        }
        foreach (string expected in table.BflKeys)
        {
            if (!result.ContainsKey(expected))
                throw new InvalidDataException($"Missing key '{expected}' in '{fileName}': the FLUX.1 model {Describe(config)} needs it.");
        }
        return result;
    }

    static Dictionary<string, Tensor> FuseDiffusers(IReadOnlyDictionary<string, Tensor> checkpoint, LinkTable table, FluxConfig config, string fileName)
    {
        var byDiffusersKey = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in checkpoint)
        {
            string name = StripPrefix(key, DiffusersPrefix);
            if (!table.ByDiffusersKey.ContainsKey(name)) throw Unexpected(key, fileName, config);
            if (!byDiffusersKey.TryAdd(name, tensor))
                throw new InvalidDataException($"Key '{key}' in '{fileName}' repeats parameter '{name}' (present with and without the '{DiffusersPrefix}' prefix).");
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (bflKey, pieces) in table.PiecesByBflKey)
        {
            var parts = new Tensor[pieces.Count];
            for (int i = 0; i < pieces.Count; i++)
            {
                var (diffusersKey, link) = pieces[i];
                if (!byDiffusersKey.TryGetValue(diffusersKey, out var part))
                    throw new InvalidDataException($"Missing key '{diffusersKey}' in '{fileName}': the FLUX.1 model {Describe(config)} needs it for '{bflKey}'.");
                if (part.dim() == 0 || part.shape[0] != link.Rows)
                    throw new InvalidDataException(
                        $"Key '{diffusersKey}' in '{fileName}' has shape [{string.Join(", ", part.shape)}]; expected {link.Rows} rows for the model {Describe(config)}.");
                parts[i] = part;
            }
            var link0 = pieces[0].Link;
            result[bflKey] = link0.Kind == LinkKind.SwappedHalves ? SwapHalves(parts[0])
                : parts.Length == 1 ? parts[0]
                : cat(parts, 0);
        }
        return result;
    }

    /// <summary>The inverse of <see cref="ToBfl"/> for a BFL state dict: diffusers keys (unprefixed), every tensor a new copy.</summary>
    public static Dictionary<string, Tensor> ToDiffusers(IReadOnlyDictionary<string, Tensor> bfl, FluxConfig config, string fileName = "<state dict>")
    {
        ArgumentNullException.ThrowIfNull(bfl);
        var table = TableFor(config);
        foreach (string key in bfl.Keys)
        {
            if (!table.BflKeys.Contains(key)) throw Unexpected(key, fileName, config);
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (bflKey, pieces) in table.PiecesByBflKey)
        {
            if (!bfl.TryGetValue(bflKey, out var whole))
                throw new InvalidDataException($"Missing key '{bflKey}' in '{fileName}': the FLUX.1 model {Describe(config)} needs it.");
            foreach (var (diffusersKey, link) in pieces)
            {
                result[diffusersKey] = link.Kind == LinkKind.SwappedHalves
                    ? SwapHalves(whole)
                    : whole.narrow(0, link.RowOffset, link.Rows).clone();
            }
        }
        return result;
    }

    static Tensor SwapHalves(Tensor t)
    {
        long half = t.shape[0] / 2;
        using var first = t.narrow(0, 0, half);
        using var second = t.narrow(0, half, half);
        return cat([second, first], 0);
    }

    static string StripPrefix(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;

    static InvalidDataException Unexpected(string key, string fileName, FluxConfig config) =>
        new($"Unexpected key '{key}' in '{fileName}': not a parameter of the FLUX.1 model {Describe(config)} in BFL, ComfyUI or diffusers naming.");

    static string Describe(FluxConfig c) =>
        $"(hidden {c.HiddenSize}, {c.Depth} double / {c.DepthSingleBlocks} single blocks, guidance embed {c.GuidanceEmbed}, qkv bias {c.QkvBias})";
}
