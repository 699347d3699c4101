namespace Glance.Engine.Runtime;

/// <summary>Reads the kernel's small text files (/proc, /sys), which may be absent on another system or configuration.</summary>
public static class KernelFiles
{
    /// <returns>The file's text, or null when it is absent or unreadable.</returns>
    public static string? Text(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
