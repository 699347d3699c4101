using Glance.Api.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Glance.Api.Tests.Endpoints;

public class OptionsValidationTests
{
    [Theory]
    [InlineData("Glance:Queue:Capacity", "0", "Capacity")]
    [InlineData("Glance:Batching:MaxRunning", "2", "MaxRunning (2) must be at least MaxBatchSize (16)")]
    [InlineData("Glance:Requests:TimeoutSeconds", "0", "TimeoutSeconds")]
    [InlineData("Glance:Shutdown:GraceSeconds", "-1", "GraceSeconds")]
    [InlineData("Glance:RateLimit:PermitLimit", "0", "PermitLimit")]
    [InlineData("Glance:Model:Threads", "0", "Threads")]
    [InlineData("Glance:Model:PromptCacheEntries", "-1", "PromptCacheEntries")]
    [InlineData("Glance:Model:PromptCacheMiB", "-1", "PromptCacheMiB")]
    [InlineData("Glance:Adapters:MaxResidentMiB", "-1", "MaxResidentMiB")]
    public async Task InvalidOptionsStopTheServerFromStarting(string key, string value, string named)
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?> { [key] = value });

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }
}
