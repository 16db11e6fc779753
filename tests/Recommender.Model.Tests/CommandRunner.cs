using System.CommandLine;

namespace Recommender.Model.Tests;

/// <summary>Runs one CLI command in process as the recommender tool would, capturing what it writes.</summary>
internal static class CommandRunner
{
    public static (int Exit, string Output, string Error) Run(Command command, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand { command };
        var exit = Recommender.Cli.CliCommands.RunAsync(root, [command.Name, .. args], new InvocationConfiguration { Output = output, Error = error })
            .GetAwaiter().GetResult();
        return (exit, output.ToString(), error.ToString());
    }
}
