using Glance.Engine.Serving;

namespace Glance.Api.Scheduling;

internal enum ServerState
{
    /// <summary>The engine is being created.</summary>
    Loading,
    /// <summary>The engine is loaded (requests are accepted and wait) and runs its warm-up generation.</summary>
    WarmingUp,
    Ready,
    /// <summary>Shutting down: no new requests; accepted ones finish within the grace period.</summary>
    Draining,
    Stopped,
    /// <summary>The engine could not be loaded.</summary>
    Faulted,
}

/// <summary>Where the server stands, for readiness and admission; written by the engine worker.</summary>
internal sealed class ServerLifecycle
{
    readonly Lock gate = new();

    public ServerState State { get; private set; } = ServerState.Loading;

    /// <summary>What the loaded engine accepts; null until the engine is created.</summary>
    public EngineDescription? Description { get; private set; }

    public string? FaultReason { get; private set; }

    public bool IsDraining => State is ServerState.Draining or ServerState.Stopped;

    public bool AcceptsRequests => State is ServerState.WarmingUp or ServerState.Ready;

    public void EngineLoaded(EngineDescription description) =>
        Move(ServerState.WarmingUp, from: [ServerState.Loading], () => Description = description);

    public void WarmedUp() => Move(ServerState.Ready, from: [ServerState.WarmingUp], null);

    public void Faulted(string reason) =>
        Move(ServerState.Faulted, from: [ServerState.Loading, ServerState.WarmingUp, ServerState.Ready, ServerState.Draining], () => FaultReason = reason);

    /// <summary>Stops admission; true the first time.</summary>
    public bool BeginDrain() =>
        Move(ServerState.Draining, from: [ServerState.Loading, ServerState.WarmingUp, ServerState.Ready], null);

    public void Stopped() => Move(ServerState.Stopped, from: [ServerState.Draining, ServerState.Loading, ServerState.WarmingUp, ServerState.Ready], null);

    bool Move(ServerState to, ServerState[] from, Action? alongside)
    {
        lock (gate)
        {
            if (!from.Contains(State)) return false;
            alongside?.Invoke();
            State = to;
            return true;
        }
    }
}
