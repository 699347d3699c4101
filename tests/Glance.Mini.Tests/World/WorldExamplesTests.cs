using Glance.Engine.Pipeline;
using Glance.Engine.Text;
using Glance.Mini.World;

namespace Glance.Mini.Tests.World;

public class WorldExamplesTests
{
    [Fact]
    public void ExamplesAreDistinctTrainingCaptionsLargeAndSmallInTurn()
    {
        var prompts = WorldExamples.Prompts(8);

        Assert.Equal(8, prompts.Count);
        Assert.Equal(8, prompts.Distinct(StringComparer.Ordinal).Count());
        var sampler = new SceneSampler(WorldExamples.Seed, SceneSplit.Train);
        var captions = sampler.Take(500).Select(s => s.Caption).ToHashSet(StringComparer.Ordinal);
        Assert.All(prompts, p => Assert.Contains(p, captions));
        for (int i = 0; i < prompts.Count; i++)
            Assert.StartsWith(i % 2 == 0 ? "a large " : "a small ", prompts[i], StringComparison.Ordinal);
    }

    [Fact]
    public void TheShippedModelsExamplesAreTheWorldsAndUseOnlyItsVocabulary()
    {
        string folder = ModelLocator.Resolve(ModelLocator.DefaultModel);
        var tokenizer = WordTokenizer.Load(Path.Combine(folder, "vocab.txt"));

        var shipped = ModelExamples.Read(folder, tokenizer);

        // Regenerate with `glance world examples --out models/glance-mini/examples.txt`.
        Assert.Equal(WorldExamples.Prompts(8), shipped);
    }

    [Fact]
    public void AnExampleOutsideTheVocabularyStopsLoadingNamingTheWord()
    {
        var folder = Directory.CreateTempSubdirectory("glance-examples-");
        try
        {
            File.WriteAllLines(Path.Combine(folder.FullName, ModelExamples.FileName), ["a large red circle at the top", "a lighthouse at the top"]);
            var tokenizer = new WordTokenizer(["<pad>", "</s>", "<unk>", .. SceneCaption.Vocabulary]);

            var error = Assert.Throws<InvalidDataException>(() => ModelExamples.Read(folder.FullName, tokenizer));

            Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
            Assert.Contains("'lighthouse'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
