using System.CommandLine;
using System.Globalization;
using Recommender.Cli;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>The recommender command line run in-process against a test cluster's front end.</summary>
public static class CommandLine
{
    /// <summary>
    /// Runs <paramref name="args"/> with --api <paramref name="address"/> unless they name one, and
    /// <paramref name="extra"/> after them; the exit code and what was written to each stream.
    /// </summary>
    public static async Task<(int Exit, string Output, string Error)> Run(Uri address, string[] args, params string[] extra)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        string[] api = args.Contains("--api") ? [] : ["--api", address.ToString()];
        var exit = await Task.Run(() => CliCommands.RunAsync(CliCommands.Root(), [.. args, .. api, .. extra], new InvocationConfiguration { Output = output, Error = error }));
        return (exit, output.ToString(), error.ToString());
    }
}
