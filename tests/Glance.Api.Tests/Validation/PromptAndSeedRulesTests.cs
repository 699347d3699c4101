using Glance.Api.Tests.Fakes;
using Glance.Api.Tests.Infrastructure;
using Glance.Api.Validation;
using Glance.Contracts.Generation;
using Glance.Contracts.OpenAi;

namespace Glance.Api.Tests.Validation;

public class PromptAndSeedRulesTests
{
    static readonly Glance.Engine.Serving.EngineDescription Engine = new FakeEngine().Description;

    [Theory]
    [InlineData(" ")]
    [InlineData("")]
    [InlineData("blurry, low contrast")]
    public void NegativePromptReachesTheEngineExactlyAsSent(string negative)
    {
        var spec = GenerateRequestValidation.Validate(new GenerateRequest("a cat", NegativePrompt: negative), Engine, out var errors);
        Assert.True(errors.IsEmpty);
        Assert.Equal(negative, spec!.NegativePrompt);

        var specs = ImageGenerationRequestValidation.Validate(new ImageGenerationRequest("a cat", NegativePrompt: negative), Engine, maxImages: 4, out var openAiErrors);
        Assert.True(openAiErrors.IsEmpty);
        Assert.Equal(negative, Assert.Single(specs!).NegativePrompt);
    }

    [Fact]
    public void AbsentNegativePromptStaysAbsent()
    {
        var spec = GenerateRequestValidation.Validate(new GenerateRequest("a cat"), Engine, out FieldErrors _);
        Assert.Null(spec!.NegativePrompt);
    }

    [Fact]
    public void RequestsWithoutASeedEachDrawTheirOwn()
    {
        // Seeds are drawn from 2^53 values: eight equal draws in a row would mean the seed is not drawn at all.
        var seeds = Enumerable.Range(0, 8)
            .Select(_ => GenerateRequestValidation.Validate(new GenerateRequest("a cat"), Engine, out FieldErrors _)!.Seed)
            .ToArray();
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        var openAiSeeds = Enumerable.Range(0, 8)
            .Select(_ => ImageGenerationRequestValidation.Validate(new ImageGenerationRequest("a cat"), Engine, maxImages: 4, out FieldErrors _)![0].Seed)
            .ToArray();
        Assert.Equal(openAiSeeds.Length, openAiSeeds.Distinct().Count());
    }

    [Fact]
    public async Task TwoGenerationsWithoutASeedReportDifferentSeedsAndImages()
    {
        await using var app = new GlanceApp();
        using HttpClient client = await app.ReadyClientAsync();

        async Task<(string Seed, byte[] Png)> GenerateAsync()
        {
            using HttpResponseMessage response = await client.PostAsync("/generate", GlanceApp.Json(new GenerateRequest("a cat")));
            response.EnsureSuccessStatusCode();
            return (response.Headers.GetValues("X-Glance-Seed").Single(), await response.Content.ReadAsByteArrayAsync());
        }

        var first = await GenerateAsync();
        var second = await GenerateAsync();
        Assert.NotEqual(first.Seed, second.Seed);
        Assert.NotEqual(first.Png, second.Png);
    }
}
