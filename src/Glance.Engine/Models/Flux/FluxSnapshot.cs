using Glance.Engine.Checkpoints;
using Glance.Engine.Models.Clip;
using Glance.Engine.Models.T5;
using Glance.Engine.Sampling;

namespace Glance.Engine.Models.Flux;

/// <summary>Where a FLUX.1 snapshot keeps its transformer and autoencoder weights.</summary>
public enum FluxWeightsLayout
{
    /// <summary>transformer/ and vae/ subfolders in diffusers naming (sharded transformer with its index).</summary>
    Diffusers,

    /// <summary>BFL single files at the snapshot root: flux1-dev.safetensors or flux1-schnell.safetensors, ae.safetensors.</summary>
    BflSingleFiles,
}

/// <summary>
/// An unmodified Hugging Face FLUX.1 download (black-forest-labs/FLUX.1-dev or -schnell), read without loading any
/// weight: every architecture number from its own config files (BFL single files: from tensor shapes), every file
/// checked to exist. Errors name the file, the field or key, the value found and what is supported.
/// </summary>
public sealed record FluxSnapshot(
    string Root,
    FluxWeightsLayout Layout,
    FluxConfig Transformer,
    string TransformerWeights,
    AutoencoderConfig Autoencoder,
    string AutoencoderWeights,
    ClipTextConfig Clip,
    string ClipWeights,
    T5Config T5,
    string T5Weights,
    string ClipTokenizerFolder,
    string T5TokenizerFolder,
    FlowMatchScheduleConfig Schedule)
{
    public const string ModelIndexFile = SnapshotFolder.ModelIndexFile;
    public const string PipelineClass = "FluxPipeline";
    const string ConfigFile = SnapshotFolder.ConfigFile;
    public const string AutoencoderSingleFile = "ae.safetensors";

    /// <summary>The longest T5 sequence FluxPipeline accepts.</summary>
    public const int MaxT5Tokens = 512;

    /// <summary>dev (guidance-distilled) reads 512 T5 tokens by default; schnell was trained with 256.</summary>
    public int DefaultT5Tokens => Transformer.GuidanceEmbed ? 512 : 256;

    /// <summary>The pipeline class a snapshot's model_index.json names, or null when the folder has none.</summary>
    public static string? PipelineClassOf(string folder) => SnapshotFolder.PipelineClassOf(folder);

    public static FluxSnapshot Open(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var folder = new SnapshotFolder(root, "FLUX.1");
        folder.RequirePipeline(PipelineClass);
        folder.CheckComponents(Components);
        string Required(string component, string file) => folder.Required(component, file);
        string Weights(string component, string singleFile) => folder.Weights(component, singleFile);

        var schedule = SchedulerConfigFile.FromDiffusers(Required("scheduler", "scheduler_config.json"));
        var clip = ClipTextConfig.FromHuggingFace(Required("text_encoder", ConfigFile));
        string clipWeights = Weights("text_encoder", "model.safetensors");
        var t5 = T5Config.FromHuggingFace(Required("text_encoder_2", ConfigFile));
        string t5Weights = Weights("text_encoder_2", "model.safetensors");
        string clipTokenizer = folder.Folder("tokenizer");
        string t5Tokenizer = folder.Folder("tokenizer_2");

        FluxWeightsLayout layout;
        FluxConfig transformer;
        string transformerWeights;
        if (Directory.Exists(Path.Combine(root, "transformer")))
        {
            layout = FluxWeightsLayout.Diffusers;
            transformer = FluxConfigFiles.FromDiffusers(Required("transformer", ConfigFile));
            transformerWeights = Weights("transformer", "diffusion_pytorch_model.safetensors");
        }
        else
        {
            layout = FluxWeightsLayout.BflSingleFiles;
            transformerWeights = BflTransformerFile(root);
            transformer = FluxConfigFiles.FromBflShapes(Shapes(transformerWeights), transformerWeights);
        }

        AutoencoderConfig autoencoder;
        string autoencoderWeights;
        if (Directory.Exists(Path.Combine(root, "vae")))
        {
            autoencoder = AutoencoderConfig.FromDiffusers(Required("vae", ConfigFile));
            autoencoderWeights = Weights("vae", "diffusion_pytorch_model.safetensors");
        }
        else
        {
            autoencoderWeights = Path.Combine(root, AutoencoderSingleFile);
            if (!File.Exists(autoencoderWeights))
                throw new FileNotFoundException($"FLUX.1 snapshot '{root}' has neither a vae/ folder nor the BFL autoencoder file '{AutoencoderSingleFile}'.", autoencoderWeights);
            autoencoder = AutoencoderConfig.FromBflShapes(Shapes(autoencoderWeights), autoencoderWeights);
        }

        var snapshot = new FluxSnapshot(root, layout, transformer, transformerWeights, autoencoder, autoencoderWeights,
            clip, clipWeights, t5, t5Weights, clipTokenizer, t5Tokenizer, schedule);
        snapshot.CheckAgreement();
        return snapshot;
    }

    /// <summary>The widths that must agree between the networks, each mismatch named with both files.</summary>
    void CheckAgreement()
    {
        if (Transformer.InChannels != Autoencoder.ZChannels * 4)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) takes {Transformer.InChannels} input channels; the autoencoder ({AutoencoderWeights}) has {Autoencoder.ZChannels} latent channels, which packed 2x2 give {Autoencoder.ZChannels * 4}.");
        if (Transformer.ContextInDim != T5.DModel)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) takes {Transformer.ContextInDim} text features (joint_attention_dim); the T5 encoder (text_encoder_2) has d_model {T5.DModel}.");
        if (Transformer.VecInDim != Clip.HiddenSize)
            throw new InvalidDataException($"The transformer ({TransformerWeights}) takes a pooled vector of {Transformer.VecInDim} (pooled_projection_dim); the CLIP encoder (text_encoder) has hidden_size {Clip.HiddenSize}.");
    }

    /// <summary>model_index.json's component classes this reader builds.</summary>
    static readonly Dictionary<string, string[]> Components = new(StringComparer.Ordinal)
    {
        ["scheduler"] = ["FlowMatchEulerDiscreteScheduler"],
        ["text_encoder"] = ["CLIPTextModel"],
        ["text_encoder_2"] = ["T5EncoderModel"],
        ["tokenizer"] = ["CLIPTokenizer", "CLIPTokenizerFast"],
        ["tokenizer_2"] = ["T5TokenizerFast", "T5Tokenizer"],
        ["transformer"] = ["FluxTransformer2DModel"],
        ["vae"] = ["AutoencoderKL"],
    };

    static string BflTransformerFile(string root)
    {
        var files = Directory.GetFiles(root, "flux1-*.safetensors").Order(StringComparer.Ordinal).ToArray();
        return files.Length switch
        {
            1 => files[0],
            0 => throw new FileNotFoundException($"FLUX.1 snapshot '{root}' has neither a transformer/ folder nor a BFL transformer file (flux1-dev.safetensors or flux1-schnell.safetensors).", Path.Combine(root, "transformer")),
            _ => throw new InvalidDataException($"FLUX.1 snapshot '{root}' has no transformer/ folder and {files.Length} BFL transformer files ({string.Join(", ", files.Select(Path.GetFileName))}); expected one."),
        };
    }

    static Dictionary<string, long[]> Shapes(string file) =>
        SafetensorsFile.ReadHeader(file).Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
}
