namespace Glance.Engine.Pipeline;

/// <summary>Finds a model folder from a configured name or path; never from anywhere but local disk.</summary>
public static class ModelLocator
{
    public const string DefaultModel = "glance-mini";
    public const string ModelsFolder = "models";

    /// <summary>
    /// A path to an existing folder is used as is; a bare name is looked up under models/ beside the
    /// application (where the build copies the shipped models), then under models/ in the working directory.
    /// </summary>
    public static string Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        if (Directory.Exists(nameOrPath)) return Path.GetFullPath(nameOrPath);
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, ModelsFolder, nameOrPath),
            Path.Combine(Directory.GetCurrentDirectory(), ModelsFolder, nameOrPath),
        };
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, GlanceModelConfig.FileName)))
            ?? throw new DirectoryNotFoundException($"Model '{nameOrPath}' was not found; looked in {string.Join(" and ", candidates)}. Train it with `glance train-base` or pass a model folder.");
    }
}
