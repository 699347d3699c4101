using Glance.Api.Engine;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Fakes;

/// <summary>An engine factory whose load fails, as with missing weights.</summary>
internal sealed class FailingEngineFactory(string message) : IEngineFactory
{
    public IGlanceEngine Create() => throw new FileNotFoundException(message);
}
