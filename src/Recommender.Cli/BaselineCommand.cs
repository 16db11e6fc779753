using System.CommandLine;
using System.Diagnostics;
using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>recommender baseline: builds the recency-mean package (PMI-SVD item vectors, ONNX encoder) from an interaction file.</summary>
internal static class BaselineCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Interaction file.", Required = true };
        var format = new Option<string>("--format") { Description = "File format.", Required = true };
        format.AcceptOnlyFromAmong([.. InteractionFormatNames.All.Keys]);
        var outDir = new Option<string>("--out") { Description = "Directory to write the package into.", Required = true };
        var version = new Option<string?>("--version") { Description = "Package version name (default: recency-mean-<UTC time>)." };
        var dimension = new Option<int>("--dimension") { DefaultValueFactory = _ => 64, Description = "Item vector length." };
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 200, Description = "Most recent items the encoder looks at." };
        var decay = new Option<float>("--decay") { DefaultValueFactory = _ => RecencyMeanModel.DefaultRecencyDecay, Description = "Weight ratio between consecutive history positions." };
        var filters = new FilterOptions();

        var command = new Command("baseline", "Build the recency-mean baseline package from interaction data.")
        {
            data, format, outDir, version, dimension, maxLength, decay,
        };
        foreach (var option in filters.All) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var formatName = parse.GetValue(format)!;
            var interactionFormat = InteractionFormatNames.All[formatName];
            var options = filters.Read(parse, interactionFormat, formatName);
            CommandErrors.CheckDirectoryTarget(parse.GetValue(outDir)!, "--out");
            var watch = Stopwatch.StartNew();
            var loaded = InteractionLoader.Read(parse.GetValue(data)!, interactionFormat, options);
            console.WriteLine($"loaded {loaded.Data.UserCount} users, {loaded.Data.ItemCount} items: {loaded.Summary}");
            var name = parse.GetValue(version) ?? $"recency-mean-{DateTime.UtcNow:yyyyMMdd'T'HHmmss}";
            var package = RecencyMeanModel.Build(loaded.Data, name, parse.GetValue(dimension), parse.GetValue(maxLength), parse.GetValue(decay));
            package.Save(parse.GetValue(outDir)!);
            console.WriteLine($"wrote package '{name}' to {parse.GetValue(outDir)} in {watch.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }
}
