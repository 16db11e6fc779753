using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>Where <see cref="SplitFiles.Write"/> put each part of a split (the test files null for a split without a test set).</summary>
public sealed record SplitPaths(string TrainInput, string ValidationInput, string ValidationOutput, string? TestInput, string? TestOutput, string Items);

/// <summary>
/// A <see cref="LeaveOneOutSplit"/> as the files the trainer and the evaluator read, in the gSASRec layout:
/// train/input.txt, val/input.txt + val/output.txt and test/input.txt + test/output.txt in dense ids, and items.tsv,
/// which maps every dense id to its external id (<c>dense\texternal</c>, one line per item in dense order). A split
/// without a test set has no test/ directory, so that nothing reads an empty one as a test.
/// </summary>
public static class SplitFiles
{
    public const string ItemsFile = "items.tsv";

    public static SplitPaths Write(LeaveOneOutSplit split, string directory)
    {
        ArgumentNullException.ThrowIfNull(split);
        var itemIds = split.Train.ItemIds;
        for (var i = 0; i < itemIds.Count; i++)
            if (itemIds[i].AsSpan().IndexOfAny("\t\r\n") >= 0)
                throw new ArgumentException($"Item id '{itemIds[i]}' (dense id {i + 1}) holds a tab or line break and cannot be written to {ItemsFile}.", nameof(split));
        var paths = new SplitPaths(
            Path.Combine(directory, "train", "input.txt"),
            Path.Combine(directory, "val", "input.txt"),
            Path.Combine(directory, "val", "output.txt"),
            split.HasTest ? Path.Combine(directory, "test", "input.txt") : null,
            split.HasTest ? Path.Combine(directory, "test", "output.txt") : null,
            Path.Combine(directory, ItemsFile));
        foreach (var part in split.HasTest ? ["train", "val", "test"] : new[] { "train", "val" }) Directory.CreateDirectory(Path.Combine(directory, part));
        SequenceFile.WriteSequences(paths.TrainInput, split.Train.Sequences);
        SequenceFile.WriteSequences(paths.ValidationInput, split.Validation.Select(c => c.History));
        SequenceFile.WriteTargets(paths.ValidationOutput, split.Validation.Select(c => c.Target));
        if (paths is { TestInput: { } testInput, TestOutput: { } testOutput })
        {
            SequenceFile.WriteSequences(testInput, split.Test.Select(c => c.History));
            SequenceFile.WriteTargets(testOutput, split.Test.Select(c => c.Target));
        }
        File.WriteAllLines(paths.Items, Enumerable.Range(0, itemIds.Count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{i + 1}\t{itemIds[i]}")));
        return paths;
    }
}
