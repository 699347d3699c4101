using System.CommandLine;
using Glance.Cli.Commands;

var root = new RootCommand("Glance Server command line: plans, generation, training, evaluation and benchmarks.");
root.Subcommands.Add(PlanCommand.Create());
return root.Parse(args).Invoke();
