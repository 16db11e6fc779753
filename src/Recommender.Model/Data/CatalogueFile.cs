using System.Text.Json;

namespace Recommender.Model.Data;

/// <summary>One item of a catalogue file: the line it is on, its id and the whole object.</summary>
public readonly record struct CatalogueLine(int Line, string Id, JsonElement Item);

/// <summary>
/// A catalogue file: JSON lines (<see cref="JsonLinesFile"/>), each one item object as the cluster's POST /items takes
/// it, with a non-empty string "id" that no other line has. Read by import-items (which sends the objects) and
/// encode-text --items (which composes their text).
/// </summary>
public static class CatalogueFile
{
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not valid UTF-8, not a JSON object, without an id, or repeats an id ("path:line: …").</exception>
    public static IEnumerable<CatalogueLine> Read(string path)
    {
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (number, item) in JsonLinesFile.Read(path, "an item"))
        {
            if (!item.TryGetProperty("id", out var idValue) || idValue.ValueKind != JsonValueKind.String)
                throw new FormatException($"{path}:{number}: the item has no \"id\" string.");
            var id = idValue.GetString()!;
            if (id.Length == 0) throw new FormatException($"{path}:{number}: the item's id is empty.");
            // Two lines of one item: which is meant cannot be told, and two writes of it would race.
            if (!lines.TryAdd(id, number)) throw new FormatException($"{path}:{number}: item '{id}' is on line {lines[id]} too.");
            yield return new CatalogueLine(number, id, item);
        }
    }
}
