using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Glance.Engine.Imaging;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;
using Glance.Mini.Evaluation;
using Glance.Mini.World;

namespace Glance.Cli.Commands;

/// <summary>`glance eval`: base-50, base-10, Glance and Glance without adapters on held-out prompts.</summary>
public static class EvalCommand
{
    static readonly EngineOptions NoPromptCache = new() { PromptCacheEntries = 0 };

    public static Command Create()
    {
        var model = new ModelArguments();
        var count = new Option<int>("--count") { Description = "Held-out prompts", DefaultValueFactory = _ => 48 };
        var sceneSeed = new Option<long>("--scene-seed") { Description = "Seed of the held-out scene sampler", DefaultValueFactory = _ => 7 };
        var seed = new Option<long>("--seed") { Description = "Noise seed of the first prompt (prompt i uses seed + i)", DefaultValueFactory = _ => 1000 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for report.json and contact-sheet.png", DefaultValueFactory = _ => new DirectoryInfo("eval") };
        var sheetRows = new Option<int>("--sheet-rows") { Description = "Prompts shown on the contact sheet", DefaultValueFactory = _ => 12 };
        var compareDType = new Option<string?>("--compare-dtype")
        {
            Description = "Also run every mode in this precision (e.g. float32) with the same prompts and seeds, and report each mode's PSNR between the two precisions",
        };

        var command = new Command("eval", "Reproduce the Glance claim on held-out prompts: accuracy, PSNR against base-50, end-to-end speed-up")
            { count, sceneSeed, seed, output, sheetRows, compareDType };
        model.AddTo(command);
        command.SetAction(result =>
        {
            // No prompt cache: every mode of a prompt runs back to back, and only the first would pay for the text encoders.
            using var engine = new TorchGlanceEngine(model.Load(result), options: NoPromptCache);
            var scenes = new SceneSampler((ulong)result.GetValue(sceneSeed), SceneSplit.HeldOut).Take(result.GetValue(count)).ToArray();
            var (results, images) = GlanceEvaluation.Run(engine, scenes, result.GetValue(seed), EvalMode.Standard, Console.WriteLine);
            PrecisionComparison? comparison = null;
            if (result.GetValue(compareDType) is { } otherDType)
            {
                var options = model.EngineOptions(result) with { DType = otherDType };
                using var other = new TorchGlanceEngine(GlanceModel.Load(ModelLocator.Resolve(result.GetValue(model.Model)!), options), options: NoPromptCache);
                var (otherResults, otherImages) = GlanceEvaluation.Run(other, scenes, result.GetValue(seed), EvalMode.Standard, Console.WriteLine);
                comparison = new PrecisionComparison(other.Description.DType, otherResults, GlanceEvaluation.PsnrPerMode(images, otherImages, EvalMode.Standard));
            }

            var folder = result.GetValue(output)!;
            folder.Create();
            var d = engine.Description;
            var report = new
            {
                command = "glance " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
                model = d.ModelName,
                device = d.Device,
                dtype = d.DType,
                threads = TorchSharp.torch.get_num_threads(),
                machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
                prompts = scenes.Length,
                columns = EvalMode.Standard.Select(m => m.Name),
                modes = results,
                scenes = scenes.Select(s => s.Caption),
                comparison,
            };
            File.WriteAllText(Path.Combine(folder.FullName, "report.json"), JsonSerializer.Serialize(report, ReportJson.Options));
            // Rows: prompts, each image framed green (detector: shape, colour and position right) or red; header: the modes.
            var sheetScenes = scenes.Take(result.GetValue(sheetRows)).ToArray();
            var sheet = LabelledContactSheet.Compose(
                [.. EvalMode.Standard.Select(m => m.Name)],
                [.. sheetScenes.Select((scene, i) => new SheetRow(scene.Caption, images[i],
                    [.. images[i].Select(image => SceneEvaluator.Compare(scene, SceneDetector.Detect(image)).Triple)]))]);
            File.WriteAllBytes(Path.Combine(folder.FullName, "contact-sheet.png"), PngEncoding.Encode(sheet));

            Console.WriteLine($"{"mode",-20} {"steps",5} {"colour",7} {"shape",7} {"pos",7} {"all3",7} {"all5",7} {"PSNR",7} {"ms/img",8} {"speed-up",8}");
            foreach (var r in results)
            {
                var a = r.Accuracy;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Mode,-20} {r.Steps,5} {a.Colour,7:P1} {a.Shape,7:P1} {a.Position,7:P1} {a.Triple,7:P1} {a.AllCorrect,7:P1} {r.MeanPsnr,7:F2} {r.MeanMillisecondsPerImage,8:F1} {r.SpeedupOverBase50,7:F2}x"));
            }
            if (comparison is not null)
            {
                Console.WriteLine($"same prompts and seeds in {comparison.DType}; PSNR is {d.DType} against {comparison.DType}, mode by mode:");
                for (int m = 0; m < comparison.Modes.Count; m++)
                {
                    var r = comparison.Modes[m];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{r.Mode,-20} {r.Steps,5} all5 {r.Accuracy.AllCorrect,7:P1} ms/img {r.MeanMillisecondsPerImage,8:F1} PSNR({d.DType} vs {comparison.DType}) {comparison.PsnrToOtherDType[m],7:F2}"));
                }
            }
            Console.WriteLine($"wrote {Path.Combine(folder.FullName, "report.json")} and contact-sheet.png (rows: prompts; columns: {string.Join(", ", EvalMode.Standard.Select(m => m.Name))}; frames: green when the detector read shape, colour and position right, red when not)");
            return 0;
        });
        return command;
    }
}

/// <param name="PsnrToOtherDType">Per mode (in <see cref="EvalMode.Standard"/> order): mean PSNR between the images of the two precisions.</param>
internal sealed record PrecisionComparison(string DType, IReadOnlyList<ModeResult> Modes, IReadOnlyList<double> PsnrToOtherDType);
