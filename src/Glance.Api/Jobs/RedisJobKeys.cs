using StackExchange.Redis;

namespace Glance.Api.Jobs;

/// <summary>
/// The Redis names of a job's parts. The job id sits in braces (a hash tag) so that all of one job's keys map to
/// the same Redis Cluster slot, which multi-key transactions need.
/// </summary>
internal sealed record RedisJobKeys(string Prefix)
{
    /// <summary>The job's current state (JSON).</summary>
    public RedisKey Job(string id) => $"{Prefix}job:{{{id}}}";

    /// <summary>The job's events in order (a list of JSON values).</summary>
    public RedisKey Events(string id) => $"{Prefix}job:{{{id}}}:events";

    /// <summary>The finished job's PNG.</summary>
    public RedisKey Image(string id) => $"{Prefix}job:{{{id}}}:image";

    /// <summary>Present once someone asked to cancel the job; its owner checks it at each step.</summary>
    public RedisKey CancelFlag(string id) => $"{Prefix}job:{{{id}}}:cancel";

    /// <summary>Wakes the job's event readers after each appended event.</summary>
    public RedisChannel EventsChannel(string id) => RedisChannel.Literal($"{Prefix}job:{{{id}}}:appended");

    /// <summary>Carries cancel requests (the job id) to every replica; the one running the job acts on it.</summary>
    public RedisChannel CancelChannel => RedisChannel.Literal($"{Prefix}cancel");
}
