using System.CommandLine;
using Glance.Engine.Pipeline;
using Glance.Engine.Runtime;

namespace Glance.Cli.Commands;

/// <summary>The options every command that loads a model shares: which model, on which device, in which precision.</summary>
internal sealed class ModelArguments
{
    public Option<string> Model { get; } = new("--model") { Description = "Model name (under models/) or model folder", DefaultValueFactory = _ => ModelLocator.DefaultModel };
    public Option<string> Device { get; } = new("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
    public Option<string> DType { get; } = new("--dtype") { Description = "float32, bfloat16 or float16 (CUDA only)", DefaultValueFactory = _ => "float32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Device);
        command.Options.Add(DType);
    }

    public EngineOptions EngineOptions(ParseResult result) =>
        new() { Device = result.GetValue(Device)!, DType = result.GetValue(DType)! };

    public GlanceModel Load(ParseResult result) =>
        GlanceModel.Load(ModelLocator.Resolve(result.GetValue(Model)!), EngineOptions(result));
}
