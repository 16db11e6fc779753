using System.CommandLine;

namespace Recommender.Cli;

/// <summary>The CLI's sub-commands; each lives in its own file with a static Create().</summary>
internal static class CliCommands
{
    public static IEnumerable<Command> All() =>
    [
        EvaluateCommand.Create(),
        TrainCommand.Create(),
        BaselineCommand.Create(),
        ExportCommand.Create(),
        BenchmarkCommand.Create(),
        ExportEventsCommand.Create(),
        EvaluateColdStartCommand.Create(),
        EncodeTextCommand.Create(),
        SplitCommand.Create(),
    ];
}
