using System.CommandLine;
using Glance.Cli.Commands;

// Before any convolution: silences libtorch's "Could not initialize NNPACK!" lines on CPUs without NNPACK support.
Glance.Engine.Runtime.Nnpack.Disable();

var root = new RootCommand("Glance Server command line: plans, generation, training, evaluation and benchmarks.");
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(TrainBaseCommand.Create());
root.Subcommands.Add(TrainLoraCommand.Create());
root.Subcommands.Add(WorldCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(CheckPrecisionCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(RunComponentCommand.Create());
return root.Parse(args).Invoke();
