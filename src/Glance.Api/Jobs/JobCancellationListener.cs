namespace Glance.Api.Jobs;

/// <summary>From start to stop, passes cancel requests made on other replicas to this replica's <see cref="JobRunner"/>.</summary>
internal sealed class JobCancellationListener(IJobCancellation cancellation, JobRunner runner) : IHostedService
{
    IAsyncDisposable? subscription;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        subscription = await cancellation.ListenAsync(id => runner.Cancel(id), cancellationToken).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (subscription is not null) await subscription.DisposeAsync().ConfigureAwait(false);
        subscription = null;
    }
}
