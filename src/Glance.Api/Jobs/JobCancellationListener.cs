using Glance.Api.Telemetry;

namespace Glance.Api.Jobs;

/// <summary>
/// While the server runs, passes cancel requests made on other replicas to this replica's <see cref="JobRunner"/>.
/// Subscribing is retried in the background, so a replica that starts before Redis still starts; until then its
/// running jobs still see cancels through the flag they check at each step.
/// </summary>
internal sealed class JobCancellationListener(IJobCancellation cancellation, JobRunner runner, ILogger<JobCancellationListener> logger)
    : BackgroundService
{
    static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IAsyncDisposable? subscription = null;
        try
        {
            while (subscription is null)
            {
                try
                {
                    subscription = await cancellation.ListenAsync(id => runner.Cancel(id), stoppingToken).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Any failure to subscribe (Redis down, timeout) is logged and retried.
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    Log.CancelSubscriptionFailed(logger, RetryDelay.TotalSeconds, ex);
                    await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(false);
                }
            }
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (subscription is not null) await subscription.DisposeAsync().ConfigureAwait(false);
        }
    }
}
