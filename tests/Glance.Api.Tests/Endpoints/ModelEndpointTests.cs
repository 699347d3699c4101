using System.Net;
using System.Text.Json;
using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Contracts.Generation;
using Glance.Contracts.OpenAi;
using Glance.Engine.Serving;

namespace Glance.Api.Tests.Endpoints;

public class ModelEndpointTests
{
    static readonly FakeEngine DistilledEngine = new()
    {
        Description = new FakeEngine().Description with
        {
            ModelName = "FLUX.1-dev",
            Family = ModelFamilies.FluxDev,
            GuidanceKind = GuidanceKinds.Distilled,
            PromptTokenLimits = [new PromptTokenLimit("clip", 77), new PromptTokenLimit("t5", 512)],
            ExamplePrompts = ["a lighthouse", "a fox"],
            Licence = ModelFamilies.Licence(ModelFamilies.FluxDev),
            AdapterNotes = new Dictionary<string, string> { ["slow"] = "slow.safetensors: 4 modules" },
        },
        AdapterSets =
        [
            new AdapterSetInfo("default", [new AdapterPhaseInfo("slow", "slow.safetensors", 4, [32], [4.0], 1024)], null),
            new AdapterSetInfo("style", [new AdapterPhaseInfo("slow", "slow.safetensors", 4, [16], [1.0], 512), new AdapterPhaseInfo("fast", "fast.safetensors", 4, [16], [1.0], 512)], "x"),
        ],
    };

    /// <summary>A snapshot configured by path under the default name: the model is called by its own name.</summary>
    static readonly Dictionary<string, string?> SnapshotByPath = new() { ["Glance:Model:Path"] = "/models/FLUX.1-dev" };

    [Fact]
    public async Task ListsTheLoadedModelInTheOpenAiShapeWithWhatAClientNeeds()
    {
        await using var app = new GlanceApp(DistilledEngine, SnapshotByPath);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement list = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("list", list.GetProperty("object").GetString());
        JsonElement model = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal("FLUX.1-dev", model.GetProperty("id").GetString());
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.True(model.GetProperty("created").GetInt64() > 1_700_000_000);
        Assert.Equal("black-forest-labs", model.GetProperty("owned_by").GetString());
        Assert.Equal("flux.1-dev", model.GetProperty("family").GetString());
        Assert.Equal("FLUX.1 [dev] Non-Commercial License", model.GetProperty("license").GetString());
        Assert.Equal("""{"min":32,"max":256,"multiple":16,"default_width":32,"default_height":32}""", model.GetProperty("sizes").GetRawText());
        Assert.Equal("""{"glance":10,"base_default":4,"base_max":50}""", model.GetProperty("steps").GetRawText());
        Assert.Equal("""{"kind":"distilled","default":3.5,"min":0,"max":20}""", model.GetProperty("guidance").GetRawText());
        Assert.False(model.GetProperty("negative_prompt").GetProperty("supported").GetBoolean());
        Assert.Equal("""["glance","base"]""", model.GetProperty("modes").GetRawText());
        Assert.Equal("""[{"name":"default","note":"slow: rank 32, scale 4"},{"name":"style","note":"slow: rank 16, scale 1, fast: rank 16, scale 1"}]""", model.GetProperty("adapters").GetRawText());
        Assert.Equal("""{"max_characters":200,"token_limits":[{"encoder":"clip","tokens":77},{"encoder":"t5","tokens":512}]}""", model.GetProperty("prompt").GetRawText());
        Assert.Equal("""["a lighthouse","a fox"]""", model.GetProperty("example_prompts").GetRawText());
    }

    [Fact]
    public async Task GetsOneModelByIdAndAnswersAnUnknownIdWith404NamingTheAvailableOne()
    {
        await using var app = new GlanceApp(DistilledEngine, SnapshotByPath);
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage found = await client.GetAsync(new Uri("/v1/models/FLUX.1-dev", UriKind.Relative));
        using HttpResponseMessage missing = await client.GetAsync(new Uri("/v1/models/dall-e-3", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal("FLUX.1-dev", JsonDocument.Parse(await found.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());
        JsonElement problem = await ProblemAssert.IsProblemAsync(missing, HttpStatusCode.NotFound, "model-not-found");
        Assert.Equal("""["FLUX.1-dev"]""", problem.GetProperty("available").GetRawText());
        Assert.Contains("'dall-e-3'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheConfiguredNameIsTheModelsId()
    {
        await using var app = new GlanceApp(settings: new Dictionary<string, string?> { ["Glance:Model:Name"] = "house-model", ["Glance:Model:Path"] = "/models/x" });
        using HttpClient client = await app.ReadyClientAsync();

        string json = await client.GetStringAsync(new Uri("/v1/models", UriKind.Relative));

        Assert.Equal("house-model", JsonDocument.Parse(json).RootElement.GetProperty("data")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task TrueCfgModelsOfferTheNegativePromptWithItsDefault()
    {
        var engine = new FakeEngine { Description = new FakeEngine().Description with { GuidanceKind = GuidanceKinds.TrueCfg, DefaultNegativePrompt = " " } };
        await using var app = new GlanceApp(engine);
        using HttpClient client = await app.ReadyClientAsync();

        string json = await client.GetStringAsync(new Uri("/v1/models/glance-mini", UriKind.Relative));

        Assert.Equal("""{"supported":true,"default":" "}""", JsonDocument.Parse(json).RootElement.GetProperty("negative_prompt").GetRawText());
    }

    public static TheoryData<string, object> RequestsNamingAnotherModel => new()
    {
        { "/v1/images/generations", new ImageGenerationRequest("a fox", Model: "dall-e-3") },
        { "/generate", new GenerateRequest("a fox", Model: "dall-e-3") },
        { "/jobs", new GenerateRequest("a fox", Model: "dall-e-3") },
    };

    [Theory]
    [MemberData(nameof(RequestsNamingAnotherModel))]
    public async Task ARequestNamingAnUnknownModelIs404AndRunsNothing(string path, object request)
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync(new Uri(path, UriKind.Relative), GlanceApp.Json(request));

        JsonElement problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound, "model-not-found");
        Assert.Equal("""["glance-mini"]""", problem.GetProperty("available").GetRawText());
        Assert.Empty(app.Engine.Steps);
    }

    public static TheoryData<string, object> RequestsNamingTheLoadedModelOrNone => new()
    {
        { "/v1/images/generations", new ImageGenerationRequest("a fox", Model: "glance-mini", Seed: 1) },
        { "/v1/images/generations", new ImageGenerationRequest("a fox", Seed: 1) },
        { "/generate", new GenerateRequest("a fox", Seed: 1, Model: "glance-mini") },
        { "/generate", new GenerateRequest("a fox", Seed: 1) },
    };

    [Theory]
    [MemberData(nameof(RequestsNamingTheLoadedModelOrNone))]
    public async Task ARequestNamingTheLoadedModelOrNoneRuns(string path, object request)
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        using HttpResponseMessage response = await client.PostAsync(new Uri(path, UriKind.Relative), GlanceApp.Json(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
