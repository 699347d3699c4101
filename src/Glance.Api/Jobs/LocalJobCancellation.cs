namespace Glance.Api.Jobs;

/// <summary>With jobs in process memory there are no other replicas to reach: every cancel is local.</summary>
internal sealed class LocalJobCancellation : IJobCancellation
{
    public Task<bool> RequestAsync(string id, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task<bool> IsRequestedAsync(string id, CancellationToken cancellationToken) => Task.FromResult(false);

    public Task<IAsyncDisposable> ListenAsync(Action<string> onRequest, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoSubscription.Instance);

    sealed class NoSubscription : IAsyncDisposable
    {
        public static NoSubscription Instance { get; } = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
