using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.Flux;
using Glance.Engine.Models.Qwen;
using Glance.Engine.Models.T5;
using Glance.Engine.Runtime;
using Glance.Engine.Text;
using static TorchSharp.torch;

namespace Glance.Engine.Pipeline;

/// <summary>One network of a model folder as its files describe it: no weight is read.</summary>
public sealed record ComponentInspection(string Name, string Architecture, IReadOnlyList<string> Files, long Parameters, long BytesOnDisk, IReadOnlyList<string> DTypes)
{
    /// <summary>Bytes the component's parameters take on the device in <paramref name="dtype"/>.</summary>
    public long DeviceBytes(ScalarType dtype) => Parameters * SafetensorsDType.ElementSize(dtype);
}

/// <summary>What a model folder holds, read from its config files and safetensors headers.</summary>
/// <param name="TextTokens">What the text encoder reads per prompt, e.g. "T5 512 tokens".</param>
public sealed record ModelInspection(string Folder, string Format, ModelProfile Profile, string TextTokens, int MaxTextTokens, IReadOnlyList<ComponentInspection> Components)
{
    /// <summary>Component names of text encoders (they may live on another device than the transformer).</summary>
    public static readonly IReadOnlySet<string> TextEncoderComponents = new HashSet<string>(StringComparer.Ordinal) { "clip", "t5", "text_encoder" };

    public const string OwnFormat = "glance model folder";

    /// <summary>The weights each device holds when the transformer and the VAE live on <paramref name="modelDevice"/> and the text encoders on <paramref name="textDevice"/>, each in its dtype.</summary>
    public IReadOnlyList<DeviceDemand> Demands(string modelDevice, ScalarType modelDType, string textDevice, ScalarType textDType) =>
    [
        .. Components
            .Select(c => TextEncoderComponents.Contains(c.Name)
                ? (Device: textDevice, Demand: new ComponentDemand(c.Name, c.DeviceBytes(textDType), textDType, TextEncoder: true))
                : (Device: modelDevice, Demand: new ComponentDemand(c.Name, c.DeviceBytes(modelDType), modelDType, TextEncoder: false)))
            .GroupBy(x => x.Device, StringComparer.Ordinal)
            .Select(g => new DeviceDemand(g.Key, [.. g.Select(x => x.Demand)])),
    ];

    public static ModelInspection Inspect(string folder, int? maxSequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        if (SnapshotFolder.PipelineClassOf(folder) == QwenImageSnapshot.PipelineClass)
        {
            var qwen = QwenImageSnapshot.Open(folder);
            int tokens = maxSequenceLength ?? QwenImagePromptTemplate.DefaultMaxSequenceLength;
            return new ModelInspection(folder, "Qwen-Image Hugging Face snapshot (diffusers)", QwenImageLoading.Profile(qwen), $"Qwen2.5-VL {tokens} tokens", tokens,
            [
                Component("transformer", $"Qwen-Image MMDiT: {qwen.Transformer.NumLayers} blocks, {qwen.Transformer.NumAttentionHeads} heads x {qwen.Transformer.AttentionHeadDim}", qwen.TransformerWeights),
                Component("vae", $"Qwen-Image autoencoder (single frames): {qwen.Autoencoder.ZDim} latent channels, {qwen.Autoencoder.DownsampleFactor}x", qwen.AutoencoderWeights),
                Component("text_encoder", $"Qwen2.5-VL language model: {qwen.TextEncoder.NumLayers} layers, width {qwen.TextEncoder.HiddenSize} (vision tower and lm_head not loaded)", qwen.TextEncoderWeights, Qwen25VLCheckpointNames.Map),
            ]);
        }
        if (FluxSnapshot.PipelineClassOf(folder) is not null)
        {
            var snapshot = FluxSnapshot.Open(folder);
            var config = FluxSnapshotLoading.Compose(snapshot, maxSequenceLength);
            string layout = snapshot.Layout == FluxWeightsLayout.Diffusers ? "diffusers" : "BFL single files";
            return new ModelInspection(folder, $"FLUX.1 Hugging Face snapshot ({layout})", GlanceModel.ProfileOf(config), $"T5 {config.MaxTextTokens} tokens", config.MaxTextTokens,
            [
                Component("transformer", $"FLUX.1 transformer: {snapshot.Transformer.Depth} double + {snapshot.Transformer.DepthSingleBlocks} single blocks, width {snapshot.Transformer.HiddenSize}, guidance embedder {(snapshot.Transformer.GuidanceEmbed ? "yes (dev)" : "no (schnell)")}", snapshot.TransformerWeights),
                Component("vae", $"autoencoder: {snapshot.Autoencoder.ZChannels} latent channels, {snapshot.Autoencoder.DownsampleFactor}x", snapshot.AutoencoderWeights),
                Component("clip", $"CLIP text model: {snapshot.Clip.NumHiddenLayers} layers, width {snapshot.Clip.HiddenSize}, {snapshot.Clip.MaxPositionEmbeddings} tokens", snapshot.ClipWeights, ClipCheckpointNames.MapHuggingFaceKey),
                Component("t5", $"T5 encoder: {snapshot.T5.NumLayers} layers, d_model {snapshot.T5.DModel}, {config.MaxTextTokens} tokens", snapshot.T5Weights, T5CheckpointNames.MapHuggingFaceKey),
            ]);
        }
        var own = GlanceModelConfig.Load(Path.Combine(folder, GlanceModelConfig.FileName));
        return new ModelInspection(folder, OwnFormat, GlanceModel.ProfileOf(own), $"T5 {own.MaxTextTokens} tokens", own.MaxTextTokens,
        [
            Component("transformer", $"FLUX-architecture transformer: {own.Transformer.Depth} double + {own.Transformer.DepthSingleBlocks} single blocks, width {own.Transformer.HiddenSize}", Path.Combine(folder, GlanceModel.TransformerFile)),
            Component("vae", $"autoencoder: {own.Autoencoder.ZChannels} latent channels, {own.Autoencoder.DownsampleFactor}x", Path.Combine(folder, GlanceModel.AutoencoderFile)),
            Component("t5", $"T5 encoder: {own.TextEncoder.NumLayers} layers, d_model {own.TextEncoder.DModel}, {own.MaxTextTokens} tokens", Path.Combine(folder, GlanceModel.TextEncoderFile)),
        ]);
    }

    /// <param name="skips">The format's mapping, where it skips keys on purpose (CLIP's position ids, T5's tied embedding copy, Qwen2.5-VL's vision tower): those are not counted.</param>
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
