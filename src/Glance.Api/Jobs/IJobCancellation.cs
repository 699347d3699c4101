namespace Glance.Api.Jobs;

/// <summary>Carries a cancel request from the replica that received DELETE to the replica that runs the job.</summary>
internal interface IJobCancellation
{
    /// <summary>Asks whichever other replica runs the job to cancel it; false where no other replica can run jobs.</summary>
    Task<bool> RequestAsync(string id, CancellationToken cancellationToken);

    /// <summary>Whether a cancel was requested for the job; its owner asks at each step, in case a message was lost.</summary>
    Task<bool> IsRequestedAsync(string id, CancellationToken cancellationToken);

    /// <summary>Hands each job id whose cancel other replicas request to <paramref name="onRequest"/> until disposed.</summary>
    Task<IAsyncDisposable> ListenAsync(Action<string> onRequest, CancellationToken cancellationToken);
}
