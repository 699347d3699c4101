namespace Glance.Engine.Runtime;

/// <summary>A model does not fit the memory its devices have left; thrown before any weight is read.</summary>
public sealed class ModelMemoryException : InvalidOperationException
{
    public ModelMemoryException()
    {
    }

    public ModelMemoryException(string message)
        : base(message)
    {
    }

    public ModelMemoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ModelMemoryException(string message, IReadOnlyList<MemoryVerdict> verdicts)
        : base(message) => Verdicts = verdicts;

    /// <summary>Every device's verdict, the short ones included.</summary>
    public IReadOnlyList<MemoryVerdict> Verdicts { get; } = [];
}
