using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.T5;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>One network of a model folder as its files describe it: no weight is read.</summary>
public sealed record ComponentInspection(string Name, string Architecture, IReadOnlyList<string> Files, long Parameters, long BytesOnDisk, IReadOnlyList<string> DTypes)
{
    /// <summary>Bytes the component's parameters take on the device in <paramref name="dtype"/>.</summary>
    public long DeviceBytes(ScalarType dtype) => Parameters * SafetensorsDType.ElementSize(dtype);
}

/// <summary>What a model folder holds, read from its config files and safetensors headers.</summary>
public sealed record ModelInspection(string Folder, string Format, GlanceModelConfig Config, IReadOnlyList<ComponentInspection> Components)
{
    public const string OwnFormat = "glance model folder";

    public static ModelInspection Inspect(string folder, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (FluxSnapshot.PipelineClassOf(folder) is not null)
        {
            var snapshot = FluxSnapshot.Open(folder);
            var config = FluxSnapshotLoading.Compose(snapshot, maxSequenceLength);
            string layout = snapshot.Layout == FluxWeightsLayout.Diffusers ? "diffusers" : "BFL single files";
            return new ModelInspection(folder, $"FLUX.1 Hugging Face snapshot ({layout})", config,
            [
                Component("transformer", $"FLUX.1 transformer: {snapshot.Transformer.Depth} double + {snapshot.Transformer.DepthSingleBlocks} single blocks, width {snapshot.Transformer.HiddenSize}, guidance embedder {(snapshot.Transformer.GuidanceEmbed ? "yes (dev)" : "no (schnell)")}", snapshot.TransformerWeights),
                Component("vae", $"autoencoder: {snapshot.Autoencoder.ZChannels} latent channels, {snapshot.Autoencoder.DownsampleFactor}x", snapshot.AutoencoderWeights),
                Component("clip", $"CLIP text model: {snapshot.Clip.NumHiddenLayers} layers, width {snapshot.Clip.HiddenSize}, {snapshot.Clip.MaxPositionEmbeddings} tokens", snapshot.ClipWeights, ClipCheckpointNames.MapHuggingFaceKey),
                Component("t5", $"T5 encoder: {snapshot.T5.NumLayers} layers, d_model {snapshot.T5.DModel}, {config.MaxTextTokens} tokens", snapshot.T5Weights, T5CheckpointNames.MapHuggingFaceKey),
            ]);
        }
        var own = GlanceModelConfig.Load(Path.Combine(folder, GlanceModelConfig.FileName));
        return new ModelInspection(folder, OwnFormat, own,
        [
            Component("transformer", $"FLUX-architecture transformer: {own.Transformer.Depth} double + {own.Transformer.DepthSingleBlocks} single blocks, width {own.Transformer.HiddenSize}", Path.Combine(folder, GlanceModel.TransformerFile)),
            Component("vae", $"autoencoder: {own.Autoencoder.ZChannels} latent channels, {own.Autoencoder.DownsampleFactor}x", Path.Combine(folder, GlanceModel.AutoencoderFile)),
            Component("t5", $"T5 encoder: {own.TextEncoder.NumLayers} layers, d_model {own.TextEncoder.DModel}, {own.MaxTextTokens} tokens", Path.Combine(folder, GlanceModel.TextEncoderFile)),
        ]);
    }

    /// <param name="skips">The format's mapping, where it skips keys on purpose (CLIP's position ids, T5's tied embedding copy): those are not counted.</param>
    static ComponentInspection Component(string name, string architecture, string weights, PlacedCheckpointLoader.KeyMapping? skips = null)
    {
        var files = CheckpointFiles.Resolve(weights).Select(s => s.File).ToArray();
        long parameters = 0, bytes = 0;
        var dtypes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            var header = SafetensorsFile.ReadHeader(file);
            foreach (var entry in header.Entries)
            {
                if (skips?.Invoke(entry.Name, entry.Shape) is { Count: 0 }) continue;
                parameters += entry.Shape.Aggregate(1L, (a, b) => a * b);
                dtypes.Add(entry.DType.ToString());
            }
            bytes += new FileInfo(file).Length;
        }
        return new ComponentInspection(name, architecture, files, parameters, bytes, [.. dtypes]);
    }
}
