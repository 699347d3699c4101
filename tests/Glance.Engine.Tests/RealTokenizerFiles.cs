namespace Glance.Engine.Tests;

/// <summary>
/// A real tokenizer's files, which the repository does not carry (see Fixtures/Tokenizers/NAME/README.md). Looked for,
/// first found: the folder named by the environment variable (when set, only there); Fixtures/Tokenizers/NAME beside
/// the test assembly; a shared/tokenizers/NAME folder in the test assembly's folder or any folder above it (where the
/// shared data folder lies beside or inside a checkout). Tests that need them are skipped, saying so, without them.
/// </summary>
internal sealed class RealTokenizerFiles
{
    readonly string _description;
    readonly IReadOnlyList<string> _files;
    readonly string _fixtureFolder;
    readonly string _sharedFolder;

    /// <param name="description">What the files are, for the skip reason: "CLIP tokenizer".</param>
    /// <param name="name">The folder name under Fixtures/Tokenizers and shared/tokenizers.</param>
    /// <param name="environmentVariable">The variable that names the folder.</param>
    /// <param name="files">The files a folder must hold to be taken.</param>
    public RealTokenizerFiles(string description, string name, string environmentVariable, IReadOnlyList<string> files)
    {
        _description = description;
        _files = files;
        _fixtureFolder = $"Fixtures/Tokenizers/{name}";
        _sharedFolder = $"shared/tokenizers/{name}";
        EnvironmentVariable = environmentVariable;
        Folder = Find();
    }

    public string EnvironmentVariable { get; }

    /// <summary>The folder that holds the files, or null when none was found.</summary>
    public string? Folder { get; }

    public string SkipReason =>
        $"the real {_description} files ({string.Join(", ", _files)}) are not present: set {EnvironmentVariable}, " +
        $"or place them in {_fixtureFolder} or {_sharedFolder} (see {_fixtureFolder}/README.md)";

    /// <summary>The skip reason when the files are missing, null when they are found: what a skip attribute sets.</summary>
    public string? SkipUnlessFound => Folder is null ? SkipReason : null;

    /// <summary>The path of one of the files; fails with the skip reason when they were not found.</summary>
    public string File(string name) => Path.Combine(Folder ?? throw new InvalidOperationException(SkipReason), name);

    string? Find()
    {
        bool Complete(string folder) => _files.All(f => System.IO.File.Exists(Path.Combine(folder, f)));

        string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured)) return Complete(configured) ? configured : null;
        string beside = Path.Combine(AppContext.BaseDirectory, _fixtureFolder);
        if (Complete(beside)) return beside;
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string shared = Path.Combine(directory.FullName, _sharedFolder);
            if (Complete(shared)) return shared;
        }
        return null;
    }
}
