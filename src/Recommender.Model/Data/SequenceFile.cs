using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>
/// Sequence-per-line files: each line is one user's chronological item ids separated by white space
/// (the SASRec / gSASRec split format). Held-out targets come from a parallel file with one item per line.
/// </summary>
public static class SequenceFile
{
    /// <summary>
    /// Reads sequences of dense ids (1-based integers, at most <see cref="ModelLimits.MaxItemCount"/>). Blank lines are
    /// users without history and are kept as empty sequences.
    /// </summary>
    public static List<int[]> ReadSequences(string path)
    {
        var result = new List<int[]>();
        var lineNumber = 0;
        foreach (var line in ReadLines(path))
        {
            lineNumber++;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var sequence = new int[fields.Length];
            for (var i = 0; i < fields.Length; i++)
                sequence[i] = ParseItem(fields[i], path, lineNumber);
            result.Add(sequence);
        }
        return result;
    }

    /// <summary>Reads one target item per line.</summary>
    public static List<int> ReadTargets(string path)
    {
        var result = new List<int>();
        var lineNumber = 0;
        foreach (var line in ReadLines(path))
        {
            lineNumber++;
            var field = line.Trim();
            if (field.Length == 0 || field.Contains(' ') || field.Contains('\t'))
                throw new FormatException($"{path}:{lineNumber}: expected exactly one item id, found '{line}'.");
            result.Add(ParseItem(field, path, lineNumber));
        }
        return result;
    }

    /// <summary>Pairs an input file of histories with an output file of next items, line by line.</summary>
    public static List<EvaluationCase> ReadEvaluationCases(string inputPath, string outputPath)
    {
        var histories = ReadSequences(inputPath);
        var targets = ReadTargets(outputPath);
        if (histories.Count != targets.Count)
            throw new FormatException($"{inputPath} has {histories.Count} lines but {outputPath} has {targets.Count}; they must pair line by line.");
        return histories.Select((h, i) => new EvaluationCase(h, targets[i])).ToList();
    }

    /// <summary>Loads a sequence file whose ids are already dense 1..n into a dataset; the item count is the largest id seen, or <paramref name="itemCount"/> when given.</summary>
    public static SequenceDataset LoadDense(string path, int? itemCount = null)
    {
        var sequences = ReadSequences(path);
        var max = sequences.Count == 0 ? 0 : sequences.Max(s => s.Length == 0 ? 0 : s.Max());
        var count = itemCount ?? max;
        if (max > count) throw new FormatException($"{path}: item id {max} exceeds the declared item count {count}.");
        return new SequenceDataset(sequences, SequenceDataset.IdentityVocabulary(count));
    }

    /// <summary>Writes one sequence per line, ids separated by single spaces (an empty sequence is an empty line).</summary>
    public static void WriteSequences(string path, IEnumerable<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        File.WriteAllLines(path, sequences.Select(s => string.Join(' ', s.Select(i => i.ToString(CultureInfo.InvariantCulture)))));
    }

    /// <summary>Writes one target item per line.</summary>
    public static void WriteTargets(string path, IEnumerable<int> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        File.WriteAllLines(path, targets.Select(i => i.ToString(CultureInfo.InvariantCulture)));
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        InputFile.Require(path, "Data file");
        return File.ReadLines(path);
    }

    private static int ParseItem(string field, string path, int lineNumber)
    {
        if (!long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var item) || item < 1)
            throw new FormatException($"{path}:{lineNumber}: '{field}' is not a positive integer item id.");
        // A dense id is also a row of the item table: an id in the billions is a slip, not a catalogue.
        if (item > ModelLimits.MaxItemCount)
            throw new FormatException($"{path}:{lineNumber}: item id {item} is above {ModelLimits.MaxItemCount:N0}, the most items a model can have; dense ids number the items 1..N.");
        return (int)item;
    }
}
