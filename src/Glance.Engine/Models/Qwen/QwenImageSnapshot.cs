using Glance.Engine.Checkpoints;
using Glance.Engine.Sampling;

namespace Glance.Engine.Models.Qwen;

/// <summary>
/// An unmodified Hugging Face Qwen-Image download (Qwen/Qwen-Image), read without loading any weight: every
/// architecture number from its own config files, every file checked to exist, the widths the networks share checked
/// to agree. Errors name the file, the field or key, the value found and what is supported.
/// </summary>
public sealed record QwenImageSnapshot(
    string Root,
    QwenImageConfig Transformer,
    string TransformerWeights,
    QwenImageAutoencoderConfig Autoencoder,
    string AutoencoderWeights,
    Qwen25VLTextConfig TextEncoder,
    string TextEncoderWeights,
    string TokenizerFolder,
    FlowMatchScheduleConfig Schedule)
{
    public const string PipelineClass = "QwenImagePipeline";

    /// <summary>model_index.json's component classes this reader builds.</summary>
    static readonly Dictionary<string, string[]> Components = new(StringComparer.Ordinal)
    {
        ["scheduler"] = ["FlowMatchEulerDiscreteScheduler"],
        ["text_encoder"] = ["Qwen2_5_VLForConditionalGeneration"],
        ["tokenizer"] = ["Qwen2Tokenizer", "Qwen2TokenizerFast"],
        ["transformer"] = ["QwenImageTransformer2DModel"],
        ["vae"] = ["AutoencoderKLQwenImage"],
    };

    public static QwenImageSnapshot Open(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var folder = new SnapshotFolder(root, "Qwen-Image");
        folder.RequirePipeline(PipelineClass);
        folder.CheckComponents(Components);

        var snapshot = new QwenImageSnapshot(
            root,
            QwenImageConfigFiles.FromDiffusers(folder.Required("transformer", SnapshotFolder.ConfigFile)),
            folder.Weights("transformer", "diffusion_pytorch_model.safetensors"),
            QwenImageAutoencoderConfig.FromDiffusers(folder.Required("vae", SnapshotFolder.ConfigFile)),
            folder.Weights("vae", "diffusion_pytorch_model.safetensors"),
            Qwen25VLTextConfig.FromHuggingFace(folder.Required("text_encoder", SnapshotFolder.ConfigFile)),
            folder.Weights("text_encoder", "model.safetensors"),
            folder.Folder("tokenizer"),
            SchedulerConfigFile.FromDiffusers(folder.Required("scheduler", "scheduler_config.json")));
        snapshot.CheckAgreement();
        return snapshot;
    }

    /// <summary>The widths that must agree between the networks, each mismatch named with both files.</summary>
    void CheckAgreement()
    {
        int packed = Autoencoder.ZDim * Transformer.PatchSize * Transformer.PatchSize;
        if (Transformer.InChannels != packed)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) takes {Transformer.InChannels} input channels (in_channels); the autoencoder ({AutoencoderWeights}) has {Autoencoder.ZDim} latent channels (z_dim), which packed {Transformer.PatchSize}x{Transformer.PatchSize} give {packed}.");
        if (Transformer.OutChannels != Autoencoder.ZDim)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) predicts {Transformer.OutChannels} channels (out_channels); the autoencoder ({AutoencoderWeights}) has {Autoencoder.ZDim} latent channels (z_dim).");
        if (Transformer.JointAttentionDim != TextEncoder.HiddenSize)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) takes {Transformer.JointAttentionDim} text features (joint_attention_dim); the text encoder ({TextEncoderWeights}) has hidden_size {TextEncoder.HiddenSize}.");
    }
}
