using Glance.Api.Engine;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Fakes;

/// <summary>Hands the worker a prepared fake engine and remembers the thread that asked.</summary>
internal sealed class FakeEngineFactory(FakeEngine engine) : IEngineFactory
{
    public int? CreatingThreadId { get; private set; }

    public IGlanceEngine Create()
    {
        CreatingThreadId = Environment.CurrentManagedThreadId;
        return engine;
    }
}
