using System.Net;
using System.Net.Http.Headers;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;

namespace Glance.Api.Tests.Security;

public class SecurityTests
{
    static readonly Dictionary<string, string?> TwoKeys = new()
    {
        ["Glance:Auth:ApiKeys:0"] = "first-secret",
        ["Glance:Auth:ApiKeys:1"] = "second-secret",
    };

    static HttpRequestMessage GenerateRequest(Action<HttpRequestHeaders>? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = GlanceApp.Json(new GenerateRequest("a")) };
        headers?.Invoke(request.Headers);
        return request;
    }

    [Fact]
    public async Task ApiKeyRequired()
    {
        await using var app = new GlanceApp(settings: TwoKeys);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage missing = await client.SendAsync(GenerateRequest());
        using HttpResponseMessage wrong = await client.SendAsync(GenerateRequest(h => h.Add("X-Api-Key", "first-secreT")));
        using HttpResponseMessage bearer = await client.SendAsync(GenerateRequest(h => h.Authorization = new AuthenticationHeaderValue("Bearer", "second-secret")));
        using HttpResponseMessage header = await client.SendAsync(GenerateRequest(h => h.Add("X-Api-Key", "first-secret")));

        await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, header.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    [InlineData("/")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task OperationalPathsAreExemptByDefault(string path)
    {
        await using var app = new GlanceApp(settings: TwoKeys);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ExemptPathsAreConfigurable()
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?>(TwoKeys) { ["Glance:Auth:ExemptPaths:0"] = "/readyz" });
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage metrics = await client.GetAsync("/metrics");
        using HttpResponseMessage jobs = await client.GetAsync("/jobs/x");

        await ProblemAssert.IsProblemAsync(metrics, HttpStatusCode.Unauthorized, "unauthorized");
        await ProblemAssert.IsProblemAsync(jobs, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task RateLimited()
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?>(TwoKeys)
        {
            ["Glance:RateLimit:Enabled"] = "true",
            ["Glance:RateLimit:PermitLimit"] = "2",
            ["Glance:RateLimit:WindowSeconds"] = "60",
        });
        using HttpClient client = await app.ReadyClientAsync();
        void First(HttpRequestHeaders h) => h.Add("X-Api-Key", "first-secret");

        using HttpResponseMessage one = await client.SendAsync(GenerateRequest(First));
        using HttpResponseMessage two = await client.SendAsync(GenerateRequest(First));
        using HttpResponseMessage three = await client.SendAsync(GenerateRequest(First));
        using HttpResponseMessage otherKey = await client.SendAsync(GenerateRequest(h => h.Add("X-Api-Key", "second-secret")));
        using HttpResponseMessage health = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        await ProblemAssert.IsProblemAsync(three, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.True(three.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal(HttpStatusCode.OK, otherKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
