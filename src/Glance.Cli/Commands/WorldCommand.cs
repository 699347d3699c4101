using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Glance.Engine.Imaging;
using Glance.Engine.Serving;
using Glance.Mini.World;

namespace Glance.Cli.Commands;

/// <summary>
/// `glance world`: the glance-mini procedural world. `sample` writes rendered scenes as PNGs with a
/// captions.jsonl; `validate` renders scenes and reports how well the detector reads them back.
/// </summary>
public static class WorldCommand
{
    static readonly JsonSerializerOptions JsonLines = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static Command Create()
    {
        var command = new Command("world", "The glance-mini procedural world of captioned single-object images.");
        command.Subcommands.Add(CreateSample());
        command.Subcommands.Add(CreateValidate());
        command.Subcommands.Add(CreateExamples());
        return command;
    }

    static Command CreateSample()
    {
        var split = SplitOption();
        var count = new Option<int>("--count") { Description = "Number of scenes.", DefaultValueFactory = _ => 16 };
        var seed = SeedOption();
        var size = SizeOption();
        var output = new Option<DirectoryInfo>("--out") { Description = "Directory for the PNGs and captions.jsonl.", Required = true };
        var command = new Command("sample", "Render scenes of a split to PNGs plus captions.jsonl.") { split, count, seed, size, output };
        command.SetAction(parseResult =>
        {
            var sampler = new SceneSampler(parseResult.GetValue(seed), ParseSplit(parseResult.GetValue(split)));
            var directory = parseResult.GetRequiredValue(output);
            directory.Create();
            var pixels = parseResult.GetValue(size);
            using var captions = new StreamWriter(Path.Combine(directory.FullName, "captions.jsonl"));
            for (var i = 0; i < parseResult.GetValue(count); i++)
            {
                var scene = sampler.Sample(i);
                var file = $"{SplitName(sampler.Split)}_{i:D6}.png";
                File.WriteAllBytes(Path.Combine(directory.FullName, file), PngEncoding.Encode(SceneRenderer.Render(scene, pixels)));
                captions.WriteLine(JsonSerializer.Serialize(new CaptionLine(
                    file, scene.Caption, SplitName(sampler.Split), i,
                    scene.Shape, scene.Colour, scene.Position, scene.Size, scene.Background), JsonLines));
            }
            parseResult.InvocationConfiguration.Output.WriteLine($"Wrote {parseResult.GetValue(count)} scenes to {directory.FullName}");
            return 0;
        });
        return command;
    }

    static Command CreateValidate()
    {
        var count = new Option<int>("--count") { Description = "Scenes per split.", DefaultValueFactory = _ => 200 };
        var seed = SeedOption();
        var size = SizeOption();
        var noise = new Option<double>("--noise") { Description = "Gaussian noise sigma added to renders, as a fraction of the 0..255 range.", DefaultValueFactory = _ => 0 };
        var blur = new Option<bool>("--blur") { Description = "Apply a 3x3 box blur to renders before detection." };
        var command = new Command("validate", "Render scenes of both splits and print the detector's accuracy per attribute.") { count, seed, size, noise, blur };
        command.SetAction(parseResult =>
        {
            var writer = parseResult.InvocationConfiguration.Output;
            var all = new List<AttributeMatch>();
            foreach (var split in Enum.GetValues<SceneSplit>())
            {
                var sampler = new SceneSampler(parseResult.GetValue(seed), split);
                var matches = new List<AttributeMatch>();
                for (var i = 0; i < parseResult.GetValue(count); i++)
                {
                    var scene = sampler.Sample(i);
                    var image = Degrade(SceneRenderer.Render(scene, parseResult.GetValue(size)),
                        parseResult.GetValue(noise), parseResult.GetValue(blur), (ulong)i);
                    matches.Add(SceneEvaluator.Compare(scene, SceneDetector.Detect(image)));
                }
                writer.WriteLine($"{SplitName(split),-8} {SceneEvaluator.Summarize(matches)}");
                all.AddRange(matches);
            }
            writer.WriteLine($"{"both",-8} {SceneEvaluator.Summarize(all)}");
            return 0;
        });
        return command;
    }

    static Command CreateExamples()
    {
        var count = new Option<int>("--count") { Description = "Number of prompts.", DefaultValueFactory = _ => 8 };
        var output = new Option<FileInfo>("--out") { Description = "The model folder's examples.txt (the service shows these prompts).", Required = true };
        var command = new Command("examples", "Write example prompts of the world, one per line, for a glance-mini model folder.") { count, output };
        command.SetAction(parseResult =>
        {
            var file = parseResult.GetRequiredValue(output);
            var prompts = WorldExamples.Prompts(parseResult.GetValue(count));
            File.WriteAllLines(file.FullName, prompts);
            parseResult.InvocationConfiguration.Output.WriteLine($"Wrote {prompts.Count} example prompts to {file.FullName}");
            return 0;
        });
        return command;
    }

    static DecodedImage Degrade(DecodedImage image, double noise, bool blur, ulong seed)
    {
        if (blur)
            image = ImageDegradation.BoxBlur3(image);
        return noise > 0 ? ImageDegradation.AddGaussianNoise(image, noise, seed) : image;
    }

    static Option<string> SplitOption()
    {
        var option = new Option<string>("--split") { Description = "train or heldout.", DefaultValueFactory = _ => "train" };
        option.AcceptOnlyFromAmong("train", "heldout");
        return option;
    }

    static Option<ulong> SeedOption() => new("--seed") { Description = "World seed.", DefaultValueFactory = _ => 0 };

    static Option<int> SizeOption() => new("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => 64 };

    static SceneSplit ParseSplit(string? name) => name == "heldout" ? SceneSplit.HeldOut : SceneSplit.Train;

    static string SplitName(SceneSplit split) => split == SceneSplit.HeldOut ? "heldout" : "train";

    sealed record CaptionLine(
        string File, string Caption, string Split, int Index,
        SceneShape Shape, SceneColour Colour, ScenePosition Position, SceneSize Size, SceneBackground Background);
}
