using Glance.Api.Options;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Glance.Api.Jobs;

/// <summary>
/// Cancel requests through Redis: a flag with the job's TTL, which the owner checks at each step, and a pub/sub
/// message to every replica, which lets the owner act at once (also on a job still waiting in its queue).
/// </summary>
internal sealed class RedisJobCancellation(IConnectionMultiplexer redis, IOptions<JobOptions> options) : IJobCancellation
{
    RedisJobKeys Keys => new(options.Value.RedisKeyPrefix);

    public async Task<bool> RequestAsync(string id, CancellationToken cancellationToken)
    {
        RedisJobKeys keys = Keys;
        IDatabase db = redis.GetDatabase();
        await db.StringSetAsync(keys.CancelFlag(id), 1, options.Value.Ttl).WaitAsync(cancellationToken).ConfigureAwait(false);
        await db.PublishAsync(keys.CancelChannel, id).WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task<bool> IsRequestedAsync(string id, CancellationToken cancellationToken) =>
        redis.GetDatabase().KeyExistsAsync(Keys.CancelFlag(id)).WaitAsync(cancellationToken);

    public async Task<IAsyncDisposable> ListenAsync(Action<string> onRequest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onRequest);
        ChannelMessageQueue requests = await redis.GetSubscriber().SubscribeAsync(Keys.CancelChannel).WaitAsync(cancellationToken).ConfigureAwait(false);
        requests.OnMessage(message => onRequest(message.Message.ToString()));
        return new Subscription(requests);
    }

    sealed class Subscription(ChannelMessageQueue requests) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await requests.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The connection closed first, and its subscriptions ended with it.
            }
        }
    }
}
