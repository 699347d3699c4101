using Glance.Engine.Checkpoints;
using static TorchSharp.torch;

namespace Glance.Engine.Lora;

public static partial class LoraFile
{
    /// <summary>
    /// Saves one attached adapter in PEFT layout: "&lt;TargetName&gt;.lora_A.weight" / ".lora_B.weight" per piece,
    /// in the piece's dtype. Each piece's applied scale is recorded as alpha = scale * rank in the header, so
    /// <see cref="Read"/> gives back the same scale even when it came from an override.
    /// </summary>
    public static void WritePeft(nn.Module model, string adapterName, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapterName);
        ArgumentNullException.ThrowIfNull(path);
        var pieces = LoraLayers.Of(model).Values.SelectMany(layer => layer.PiecesOf(adapterName)).ToList();
        if (pieces.Count == 0) throw new InvalidOperationException($"Adapter '{adapterName}' is not attached to any LoraLinear layer of the model; nothing to write to '{path}'.");
        var clash = pieces.GroupBy(p => p.TargetName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new InvalidOperationException($"Adapter '{adapterName}' has {clash.Count()} pieces named '{clash.Key}'; PEFT keys must be unique.");

        var tensors = new List<KeyValuePair<string, Tensor>>(pieces.Count * 2);
        foreach (var piece in pieces)
        {
            tensors.Add(new(piece.TargetName + ".lora_A.weight", piece.Down));
            tensors.Add(new(piece.TargetName + ".lora_B.weight", piece.Up));
        }
        var metadata = LoraAlphaMetadata.Describe(pieces.Select(p => (p.TargetName, p.Rank, p.Scale * p.Rank)).ToList());
        SafetensorsFile.Write(path, tensors, metadata);
    }
}
