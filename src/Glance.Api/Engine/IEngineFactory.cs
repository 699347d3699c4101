using Glance.Engine.Serving;

namespace Glance.Api.Engine;

/// <summary>
/// Creates the engine. Called once, on the engine worker's own thread, so that every tensor the engine
/// allocates belongs to that thread.
/// </summary>
internal interface IEngineFactory
{
    IGlanceEngine Create();
}
