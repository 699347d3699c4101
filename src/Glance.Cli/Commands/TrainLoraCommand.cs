using System.CommandLine;
using Glance.Engine.Imaging;
using Glance.Engine.Lora;
using Glance.Engine.Sampling;
using Glance.Engine.Training;

namespace Glance.Cli.Commands;

/// <summary>`glance train-lora`: the Glance recipe for one phase adapter on one image-caption pair.</summary>
public static class TrainLoraCommand
{
    public static Command Create()
    {
        var model = new ModelArguments(defaultDType: "float32");
        var phase = new Option<string>("--phase") { Description = "slow or fast", Required = true };
        phase.AcceptOnlyFromAmong(PlanBuilder.SlowPhase, PlanBuilder.FastPhase);
        var image = new Option<FileInfo>("--image") { Description = "The one training image (PNG)", Required = true };
        var caption = new Option<string>("--caption") { Description = "Its caption", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Adapter file to write (PEFT layout safetensors)", Required = true };
        var rank = new Option<int?>("--rank") { Description = "LoRA rank; default: the model's recipe (FLUX.1 16, Qwen-Image 32)" };
        var alpha = new Option<double?>("--alpha") { Description = "LoRA alpha; default: the recipe's multiple of the rank (4x)" };
        var rate = new Option<double?>("--lr") { Description = "Constant AdamW learning rate; default: the recipe's (FLUX.1 5e-4, Qwen-Image 3e-4)" };
        var steps = new Option<int?>("--steps") { Description = "Steps; default: the recipe's (60)" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 1 };
        var targets = new Option<string?>("--targets")
        {
            Description = "Modules the adapter covers: broad (attention, projections, modulation, MLP outputs: the Qwen-Image recipe) or attention (to_q, to_k, to_v, to_out.0: the FLUX.1-dev recipe); default: the model's recipe",
        };
        targets.AcceptOnlyFromAmong([.. LoraTargetSets.Names]);

        var command = new Command("train-lora", "Train a Slow or Fast Glance adapter on exactly one image-caption pair")
            { phase, image, caption, output, rank, alpha, rate, steps, seed, targets };
        model.AddTo(command);
        command.SetAction(result =>
        {
            using var glance = model.Load(result);
            foreach (var attached in glance.Adapters.ToArray()) glance.DetachAdapter(attached);
            string name = result.GetValue(phase)!;
            var recipe = glance.TrainingRecipe;
            var options = recipe.For(name, glance.AdapterTargets(result.GetValue(targets) ?? recipe.Targets),
                result.GetValue(rank), result.GetValue(rate), result.GetValue(steps), result.GetValue(seed));
            if (result.GetValue(alpha) is { } explicitAlpha) options = options with { Alpha = explicitAlpha };
            var progress = LoraTrainer.Train(glance, name, PngEncoding.Load(result.GetValue(image)!.FullName), result.GetValue(caption)!, options, Console.Out);
            var file = result.GetValue(output)!;
            file.Directory?.Create();
            LoraFile.WritePeft(glance.Denoiser, name, file.FullName);
            Console.WriteLine($"wrote {file.FullName}: {result.GetValue(targets) ?? glance.TrainingRecipe.Targets} targets, rank {options.Rank}, alpha {options.Alpha}, {options.Steps} steps in {progress.Elapsed.TotalSeconds:F0} s, final loss {progress.History[^1].MeanLoss:F4}");
            return 0;
        });
        return command;
    }
}
