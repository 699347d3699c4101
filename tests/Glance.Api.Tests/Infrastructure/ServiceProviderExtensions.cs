using Glance.Api.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace Glance.Api.Tests.Infrastructure;

internal static class ServiceProviderExtensions
{
    /// <summary>Requests waiting in the app's queue.</summary>
    public static int GetQueueCount(this IServiceProvider services) => services.GetRequiredService<RequestQueue>().Count;

    public static ServerLifecycle GetLifecycle(this IServiceProvider services) => services.GetRequiredService<ServerLifecycle>();
}
