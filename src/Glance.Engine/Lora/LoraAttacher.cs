using static TorchSharp.torch;

namespace Glance.Engine.Lora;

/// <summary>Attaches named adapters to the <see cref="LoraLinear"/> layers of a model, and merges or removes them.</summary>
public static partial class LoraAttacher
{
    /// <summary>
    /// Attaches every module of <paramref name="file"/> as adapter <paramref name="adapterName"/>. Each module name
    /// (container prefix removed) goes to <paramref name="resolveTarget"/> first; when that returns null, BFL paths and
    /// kohya underscore names are matched against the model's layers. Nothing is attached unless every module
    /// resolves and fits. Tensors are copied to each layer's device and dtype.
    /// </summary>
    /// <param name="resolveTarget">Maps a module name (e.g. "transformer_blocks.0.attn.to_q", or kohya's
    /// "double_blocks_0_img_attn_qkv") to its slice; returns null for names it does not know.</param>
    /// <param name="scaleOverride">Scale for every module instead of the file's override or alpha / rank.</param>
    /// <param name="scaleWithoutAlpha">Scale for modules the file gives no alpha (null: alpha = rank, scale 1).</param>
    /// <returns>The scale applied to each attached module, by the file's module name.</returns>
    public static IReadOnlyDictionary<string, double> Attach(nn.Module model, string adapterName, LoraAdapterFile file, Func<string, ModuleSlice?>? resolveTarget,
        double? scaleOverride = null, double? scaleWithoutAlpha = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapterName);
        ArgumentNullException.ThrowIfNull(file);
        var layers = LoraLayers.Of(model);
        EnsureNotAttached(layers, adapterName);
        var fallback = new LoraTargetResolver(layers);

        var placements = new List<(LoraLinear Layer, ModuleSlice Slice, LoraFileEntry Entry)>(file.Entries.Count);
        foreach (var entry in file.Entries)
        {
            var slice = resolveTarget?.Invoke(entry.Module) ?? fallback.Resolve(entry.Module)
                ?? throw new InvalidOperationException(
                    $"Adapter key '{entry.DownKey}' in '{file.Path}' names module '{entry.Module}', which matches no LoraLinear layer of the model.");
            if (!layers.TryGetValue(slice.Module, out var layer))
                throw new InvalidOperationException(
                    $"Adapter key '{entry.DownKey}' in '{file.Path}' maps to '{slice.Module}', which is not a LoraLinear layer of the model.");
            CheckShapes(entry, layer, slice, file.Path);
            placements.Add((layer, slice, entry));
        }

        double? scale = scaleOverride ?? file.ScaleOverride;
        var applied = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (layer, slice, entry) in placements)
        {
            var weight = layer.weight;
            // The layer owns its pieces: a dispose scope around the caller must not take them.
            var down = entry.Down.to(weight.dtype, weight.device, copy: true).requires_grad_(false).DetachFromDisposeScope();
            var up = entry.Up.to(weight.dtype, weight.device, copy: true).requires_grad_(false).DetachFromDisposeScope();
            double pieceScale = entry.ScaleWith(scale, scaleWithoutAlpha);
            layer.AddPiece(adapterName, new LoraPiece(entry.FileModule, down, up, slice.RowOffset, entry.Alpha, pieceScale));
            applied[entry.FileModule] = pieceScale;
        }
        return applied;
    }

    /// <summary>Removes the adapter (unmerging it where merged) from every layer; false when no layer had it.</summary>
    public static bool Detach(nn.Module model, string adapterName)
    {
        bool found = false;
        foreach (var layer in LayersWith(model, adapterName))
        {
            layer.RemoveAdapter(adapterName);
            found = true;
        }
        return found;
    }

    /// <summary>Adds the adapter into the weights of every layer that carries it; routing then skips it.</summary>
    public static void Merge(nn.Module model, string adapterName)
    {
        foreach (var layer in RequireLayersWith(model, adapterName)) layer.Merge(adapterName);
    }

    /// <summary>Subtracts a merged adapter from the weights again.</summary>
    public static void Unmerge(nn.Module model, string adapterName)
    {
        foreach (var layer in RequireLayersWith(model, adapterName)) layer.Unmerge(adapterName);
    }

    static List<LoraLinear> LayersWith(nn.Module model, string adapterName)
    {
        ArgumentNullException.ThrowIfNull(adapterName);
        return LoraLayers.Of(model).Values.Where(layer => layer.AdapterNames.Contains(adapterName)).ToList();
    }

    static List<LoraLinear> RequireLayersWith(nn.Module model, string adapterName)
    {
        var layers = LayersWith(model, adapterName);
        if (layers.Count == 0) throw new InvalidOperationException($"Adapter '{adapterName}' is not attached to any LoraLinear layer of the model.");
        return layers;
    }

    static void EnsureNotAttached(Dictionary<string, LoraLinear> layers, string adapterName)
    {
        string? holder = layers.FirstOrDefault(l => l.Value.AdapterNames.Contains(adapterName)).Key;
        if (holder is not null)
            throw new InvalidOperationException($"Adapter '{adapterName}' is already attached (layer '{holder}'); detach it before attaching again.");
    }

    static void CheckShapes(LoraFileEntry entry, LoraLinear layer, ModuleSlice slice, string path)
    {
        long rows = slice.Rows ?? layer.OutFeatures - slice.RowOffset;
        if (slice.RowOffset < 0 || rows <= 0 || slice.RowOffset + rows > layer.OutFeatures)
            throw new InvalidOperationException(
                $"Adapter key '{entry.UpKey}' in '{path}' maps to rows [{slice.RowOffset}, {slice.RowOffset + rows}) of '{slice.Module}', which has {layer.OutFeatures} output rows.");
        if (entry.Down.shape[1] != layer.InFeatures)
            throw new InvalidOperationException(
                $"Adapter key '{entry.DownKey}' in '{path}' has shape [{Shape(entry.Down)}]; expected [{entry.Rank}, {layer.InFeatures}] for '{slice.Module}'.");
        if (entry.Up.shape[0] != rows)
            throw new InvalidOperationException(
                $"Adapter key '{entry.UpKey}' in '{path}' has shape [{Shape(entry.Up)}]; expected [{rows}, {entry.Rank}] for rows [{slice.RowOffset}, {slice.RowOffset + rows}) of '{slice.Module}'.");
    }

    static string Shape(Tensor t) => string.Join(", ", t.shape);
}
