using System.CommandLine;
using System.Globalization;
using Glance.Engine.Runtime;

namespace Glance.Cli.Commands;

/// <summary>`glance check-precision`: are this machine's kernels right in the precision `auto` would serve in?</summary>
public static class CheckPrecisionCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var dtype = new Option<string>("--dtype") { Description = "Precision to check: bfloat16 or float16 (auto: what serving would pick here)", DefaultValueFactory = _ => "auto" };
        var command = new Command("check-precision",
            "Run the kernels the models use in a reduced precision against float64 on this machine and flag any that are wrong (error of more than 4 roundings)")
            { device, dtype };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var target = TorchRuntime.ResolveDevice(result.GetValue(device)!);
            // The unverified choice: this command is how the verification is seen.
            var precision = TorchRuntime.ResolveDType(result.GetValue(dtype)!, target, CpuFeatures.HasNativeBFloat16);
            if (precision is TorchSharp.torch.ScalarType.Float32 or TorchSharp.torch.ScalarType.Float64)
            {
                output.WriteLine($"{precision} on {target}: nothing to check (this is what auto serves in here, or what was asked for); pass --dtype bfloat16 to check that precision.");
                return 0;
            }
            var results = KernelPrecision.Measure(target, precision);
            output.WriteLine($"{precision} on {target} ({Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "default"} oneDNN ISA), error relative to float64:");
            output.WriteLine($"{"kernel",-42} {"error",10} {"rounding",10} {"ratio",7}");
            foreach (var r in results)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Kernel,-42} {r.RelativeError,10:E2} {r.RoundingError,10:E2} {r.Ratio,7:F2}{(r.IsWrong ? "  WRONG" : "")}"));
            }
            // The raw libtorch rows may be wrong on some CPUs; what matters for serving is the models' own path.
            var servingWrong = results.Where(r => r.IsWrong && r.AsTheModelsRunIt).ToList();
            output.WriteLine(KernelPrecision.ServesCorrectly(results)
                ? "every kernel as the models run it is within rounding"
                : $"WRONG as the models run them: {string.Join(", ", servingWrong.Select(r => r.Kernel))}; precision auto serves float32 on this machine");
            return servingWrong.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
