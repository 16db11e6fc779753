using System.CommandLine;
using System.Globalization;
using Recommender.Model.Data;
using Recommender.Model.Text;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// recommender split: turns an interaction file (any --format, with the loader's filters) into the leave-one-out files
/// that train's --val-*/--test-* options and evaluate read, so a catalogue with external ids can be validated and
/// scored; a text-vector file is re-keyed to the same dense ids for train --item-text-file.
/// </summary>
internal static class SplitCommand
{
    public const string TextVectorsFile = "text-vectors.tsv";

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Interaction file.", Required = true };
        var format = new Option<string>("--format") { Description = "File format.", Required = true };
        format.AcceptOnlyFromAmong([.. InteractionFormatNames.All.Keys]);
        var output = new Option<string>("--out") { Description = "Directory for train/, val/, test/ and items.tsv.", Required = true };
        var textVectors = new Option<string?>("--text-vectors") { Description = $"A #text-vectors file keyed by external item id (from encode-text) to write again as {TextVectorsFile}, keyed by dense id." };
        var noTest = new Option<bool>("--no-test")
        {
            Description = "Hold out only each user's last item, as the validation target, and write no test set: for a model trained to serve, which then learns from all but one " +
                "item of each history instead of all but two.",
        };
        var filters = new FilterOptions();
        var command = new Command("split", "Leave-one-out split of interaction data into dense-id train, validation and test files (each user's last item is the test target, the one before it the validation target).")
        {
            data, format, output, textVectors, noTest,
        };
        foreach (var option in filters.All) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(parse, console =>
        {
            var formatName = parse.GetValue(format)!;
            var interactionFormat = InteractionFormatNames.All[formatName];
            var options = filters.Read(parse, interactionFormat, formatName);
            var directory = parse.GetValue(output)!;
            CommandErrors.CheckDirectoryTarget(directory, "--out");
            var vectorsPath = parse.GetValue(textVectors);
            // Read before anything is written, so a bad vector file leaves no half-written split behind.
            var vectors = vectorsPath is null ? null : TextVectorFile.Read(vectorsPath);

            var loaded = InteractionLoader.Read(parse.GetValue(data)!, interactionFormat, options);
            console.WriteLine($"{parse.GetValue(data)}: {loaded.Summary}");
            var withTest = !parse.GetValue(noTest);
            var split = LeaveOneOutSplit.Create(loaded.Data, withTest);
            var least = withTest ? "three" : "two";
            if (split.Validation.Count == 0)
                throw new FormatException($"{parse.GetValue(data)}: no user has {least} or more interactions, so there is nothing to validate{(withTest ? " or test" : "")} on.");
            var dense = vectors is null ? null : DenseVectors(vectors, loaded.Data.ItemIds, vectorsPath!, console);

            var paths = SplitFiles.Write(split, directory);
            if (dense is not null) TextVectorFile.Write(Path.Combine(directory, TextVectorsFile), dense);
            var shortUsers = loaded.Data.UserCount - split.Validation.Count;
            var counts = string.Create(CultureInfo.InvariantCulture,
                $"{loaded.Data.UserCount:N0} users, {loaded.Data.ItemCount:N0} items: {split.Validation.Count:N0} validation{(withTest ? " and test" : "")} cases");
            if (shortUsers == 1) counts += $"; 1 user with fewer than {least} interactions is in train/ only";
            else if (shortUsers > 1) counts += string.Create(CultureInfo.InvariantCulture, $"; {shortUsers:N0} users with fewer than {least} interactions are in train/ only");
            if (!withTest) counts += "; no test set (--no-test)";
            console.WriteLine(counts);
            var written = new List<string> { Path.GetDirectoryName(paths.TrainInput)!, Path.GetDirectoryName(paths.ValidationInput)! };
            if (paths.TestInput is { } testInput) written.Add(Path.GetDirectoryName(testInput)!);
            written.Add(paths.Items);
            if (dense is not null) written.Add(Path.Combine(directory, TextVectorsFile));
            console.WriteLine("wrote " + string.Join(", ", written));
            return 0;
        }));
        return command;
    }

    /// <summary>The vectors of the dataset's items keyed by dense id ("1".."N"); items without one are counted and reported.</summary>
    private static TextVectors DenseVectors(TextVectors vectors, IReadOnlyList<string> itemIds, string path, IAnsiConsole console)
    {
        var byDenseId = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var i = 0; i < itemIds.Count; i++)
            if (vectors.Vectors.TryGetValue(itemIds[i], out var vector)) byDenseId[(i + 1).ToString(CultureInfo.InvariantCulture)] = vector;
        var missing = itemIds.Count - byDenseId.Count;
        if (byDenseId.Count == 0) throw new FormatException($"None of the {itemIds.Count} items has a vector in '{path}': the item ids do not match.");
        if (missing > 0) console.WriteLine($"{missing} of {itemIds.Count} items have no vector in '{path}'.");
        // The text digests serve encode-text --reuse, which reads files keyed by the catalogue's ids, not a split's.
        return vectors with { Vectors = byDenseId, TextDigests = null };
    }
}
