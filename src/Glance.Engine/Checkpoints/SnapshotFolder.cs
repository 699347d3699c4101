using System.Text.Json;

namespace Glance.Engine.Checkpoints;

/// <summary>
/// A Hugging Face diffusers snapshot's folder: its model_index.json, component folders, config files and weights
/// (single file or shard index), each checked to exist, every error naming the snapshot, the component and the file.
/// </summary>
/// <param name="Root">The snapshot folder.</param>
/// <param name="Family">The model family for messages: "FLUX.1", "Qwen-Image".</param>
public sealed record SnapshotFolder(string Root, string Family)
{
    public const string ModelIndexFile = "model_index.json";
    public const string ConfigFile = "config.json";

    public string ModelIndex => Path.Combine(Root, ModelIndexFile);

    /// <summary>The pipeline class a folder's model_index.json names, or null when the folder has none.</summary>
    public static string? PipelineClassOf(string folder)
    {
        string index = Path.Combine(folder, ModelIndexFile);
        if (!File.Exists(index)) return null;
        return JsonConfigFile.Read(index).Text("_class_name", null)
            ?? throw new InvalidDataException($"'{index}' has no \"_class_name\"; expected the pipeline class, e.g. \"FluxPipeline\" or \"QwenImagePipeline\".");
    }

    /// <summary>model_index.json must name this pipeline class.</summary>
    public void RequirePipeline(string pipelineClass)
    {
        string? pipeline = PipelineClassOf(Root);
        if (pipeline != pipelineClass)
            throw new InvalidDataException($"'{ModelIndex}' names pipeline \"{pipeline}\"; this reader supports \"{pipelineClass}\".");
    }

    /// <summary>model_index.json's component classes, where it names them, must be the ones this reader builds.</summary>
    public void CheckComponents(IReadOnlyDictionary<string, string[]> expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        using var document = JsonDocument.Parse(File.ReadAllBytes(ModelIndex));
        foreach (var (component, classes) in expected)
        {
            if (!document.RootElement.TryGetProperty(component, out var entry) || entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2) continue;
            string? found = entry[1].ValueKind == JsonValueKind.String ? entry[1].GetString() : null;
            if (found is not null && !classes.Contains(found))
                throw new InvalidDataException($"'{ModelIndex}': component \"{component}\" is \"{found}\"; supported: {string.Join(" or ", classes.Select(c => $"\"{c}\""))}.");
        }
    }

    public bool Has(string component) => Directory.Exists(Path.Combine(Root, component));

    public string Folder(string component)
    {
        string folder = Path.Combine(Root, component);
        return Directory.Exists(folder) ? folder
            : throw new DirectoryNotFoundException($"{Family} snapshot '{Root}' has no '{component}' folder; an unmodified download holds it.");
    }

    public string Required(string component, string file)
    {
        string path = Path.Combine(Folder(component), file);
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"{Family} snapshot '{Root}' lacks '{component}/{file}'.", path);
    }

    /// <summary>A component's weights: its single file, else its shard index.</summary>
    public string Weights(string component, string singleFile)
    {
        string folder = Folder(component);
        string single = Path.Combine(folder, singleFile);
        if (File.Exists(single)) return single;
        string shardIndex = single + ".index.json";
        if (File.Exists(shardIndex)) return shardIndex;
        throw new FileNotFoundException($"{Family} snapshot '{Root}' lacks the weights of '{component}': neither '{component}/{singleFile}' nor its shard index '{component}/{singleFile}.index.json'.", single);
    }
}
