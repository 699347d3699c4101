namespace Glance.Engine.Runtime;

/// <summary>
/// Whether modules built on this thread draw random initial parameters. Loading a checkpoint overwrites every
/// parameter (the loaders check that every state-dict entry is covered), so the load paths build their modules inside
/// <see cref="Skip"/>: parameters are then allocated with torch.empty in the target dtype and device, and the random
/// draw, which took most of a FLUX load's time, is not run. Everywhere else (GlanceModel.Create, training, tests)
/// modules initialise as torch.nn does.
/// </summary>
public static class ParameterInitialization
{
    [ThreadStatic] static int t_skipDepth;

    /// <summary>True inside a <see cref="Skip"/> scope on this thread.</summary>
    public static bool IsSkipped => t_skipDepth > 0;

    /// <summary>Until disposed, modules built on this thread leave their parameters uninitialised (torch.empty): only for modules whose every parameter is then loaded.</summary>
    public static IDisposable Skip()
    {
        t_skipDepth++;
        return new Scope();
    }

    sealed class Scope : IDisposable
    {
        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            t_skipDepth--;
        }
    }
}
