using System.CommandLine;
using System.CommandLine.Invocation;

namespace Recommender.Cli;

/// <summary>The CLI's sub-commands; each lives in its own file with a static Create().</summary>
internal static partial class CliCommands
{
    public static IEnumerable<Command> All() =>
    [
        EvaluateCommand.Create(),
        TrainCommand.Create(),
        BaselineCommand.Create(),
        ExportCommand.Create(),
        BenchmarkCommand.Create(),
        ExportEventsCommand.Create(),
        ExportItemsCommand.Create(),
        ImportItemsCommand.Create(),
        DeleteItemsCommand.Create(),
        ChangeItemsCommand.Create(),
        RemoveEventsCommand.Create(),
        ImportEventsCommand.Create(),
        EvaluateColdStartCommand.Create(),
        EncodeTextCommand.Create(),
        SplitCommand.Create(),
        BackupCommand.Create(),
        MoveToClusterCommand.Create(),
        PublishCommand.Create(),
        DeleteModelsCommand.Create(),
        CandidateResultsCommand.Create(),
        ApplyScenariosCommand.Create(),
        ExportScenariosCommand.Create(),
        ScenarioHistoryCommand.Create(),
    ];

    /// <summary>The whole tool: the root command with every sub-command.</summary>
    public static RootCommand Root()
    {
        var root = new RootCommand("Recommender: train, evaluate and export next-item sequence models; import to and export from a cluster, publish models to it, back up and move a node's data.");
        foreach (var command in All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. A command line that does not parse gets its errors and a pointer to
    /// --help, not the whole help text, so the error is what the user sees last; a value of the wrong type is described
    /// in words ("a whole number"), not as a .NET type name.
    /// </summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args, InvocationConfiguration? configuration = null)
    {
        var parse = root.Parse(args);
        if (parse.Action is not ParseErrorAction onError) return await parse.InvokeAsync(configuration);
        onError.ShowHelp = false;
        var error = configuration?.Error ?? Console.Error;
        var captured = new StringWriter();
        var exit = await parse.InvokeAsync(new InvocationConfiguration { Output = configuration?.Output ?? Console.Out, Error = captured });
        error.Write(WrongType().Replace(captured.ToString(), m => Describe(m.Groups["type"].Value) is { } expected
            ? $"'{m.Groups["value"].Value}' is not a valid value for {m.Groups["option"].Value}: it takes {expected}."
            : m.Value));
        var path = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            path.Insert(0, result.Command is RootCommand ? "recommender" : result.Command.Name);
        error.WriteLine($"Run '{string.Join(' ', path)} --help' for its options.");
        return exit;
    }

    private static string? Describe(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" => "a whole number",
        "System.Double" or "System.Single" or "System.Nullable`1[System.Double]" => "a number",
        "System.Boolean" => "true or false",
        _ => null,
    };

    [System.Text.RegularExpressions.GeneratedRegex(@"Cannot parse argument '(?<value>[^']*)' for option '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.")]
    private static partial System.Text.RegularExpressions.Regex WrongType();
}
