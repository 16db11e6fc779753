using Recommender.Cli;

return await CliCommands.RunAsync(CliCommands.Root(), args);
