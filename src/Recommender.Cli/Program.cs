using System.CommandLine;
using Recommender.Cli;

var root = new RootCommand("Recommender: train, evaluate and export next-item sequence models.");
foreach (var command in CliCommands.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
