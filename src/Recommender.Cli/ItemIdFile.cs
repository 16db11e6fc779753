using Recommender.Model.Data;

namespace Recommender.Cli;

/// <summary>
/// The external id of every dense item, for a package trained on dense ids: either one id per line (line i names
/// dense item i), or the <c>dense&lt;TAB&gt;external</c> lines of a split's items.tsv.
/// </summary>
internal static class ItemIdFile
{
    /// <param name="itemCount">How many ids the file must list; null takes any number.</param>
    public static IReadOnlyList<string> Read(string path, int? itemCount, string option)
    {
        if (Directory.Exists(path)) throw new IOException($"{option} '{path}' is a directory; give the item id file (e.g. split/{SplitFiles.ItemsFile}).");
        if (!File.Exists(path)) throw new FileNotFoundException($"Item id file '{path}' does not exist.", path);
        var lines = File.ReadAllLines(path).ToList();
        while (lines.Count > 0 && lines[^1].Trim().Length == 0) lines.RemoveAt(lines.Count - 1);
        // items.tsv when its first line has a tab: every line is then "dense<TAB>external" with dense = line number.
        var tabbed = lines.Count > 0 && lines[0].Contains('\t');
        var ids = new List<string>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (!tabbed)
            {
                if (line.Contains('\t'))
                    throw new FormatException($"{path}:{i + 1}: the line holds a tab, but line 1 does not: give one id per line, or the dense<TAB>external lines of items.tsv throughout.");
                ids.Add(line.Trim());
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length != 2 || fields[0].Trim() != (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw new FormatException($"{path}:{i + 1}: expected '{i + 1}<TAB>external id' (the items.tsv written by split), got '{line}'.");
            ids.Add(fields[1].Trim());
        }
        if (itemCount is not null && ids.Count != itemCount) throw new FormatException($"{path} lists {ids.Count} item ids; the model has {itemCount} items.");
        var blank = ids.FindIndex(id => id.Length == 0);
        if (blank >= 0) throw new FormatException($"{path}:{blank + 1}: the item id is empty.");
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < ids.Count; i++)
            if (!firstLine.TryAdd(ids[i], i + 1))
                throw new FormatException($"{path}:{i + 1}: item id '{ids[i]}' is already on line {firstLine[ids[i]]}; every dense item needs its own id.");
        return ids;
    }
}
