using System.Text;
using System.Text.Json;

namespace Recommender.Model.Data;

/// <summary>One item of a catalogue file: the line it is on, its id and the whole object.</summary>
public readonly record struct CatalogueLine(int Line, string Id, JsonElement Item);

/// <summary>
/// A catalogue file: UTF-8 JSON lines, each one item object as the cluster's POST /items takes it, with a non-empty
/// string "id" that no other line has; blank lines are skipped. Read by import-items (which sends the objects) and
/// encode-text --items (which composes their text).
/// </summary>
public static class CatalogueFile
{
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not valid UTF-8, not a JSON object, without an id, or repeats an id ("path:line: …").</exception>
    public static IEnumerable<CatalogueLine> Read(string path)
    {
        InputFile.Require(path, "Catalogue file");
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var number = 0;
        while (ReadLine(reader, path, number + 1) is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var item = Parse(path, number, line);
            if (!item.TryGetProperty("id", out var idValue) || idValue.ValueKind != JsonValueKind.String)
                throw new FormatException($"{path}:{number}: the item has no \"id\" string.");
            var id = idValue.GetString()!;
            if (id.Length == 0) throw new FormatException($"{path}:{number}: the item's id is empty.");
            // Two lines of one item: which is meant cannot be told, and two writes of it would race.
            if (!lines.TryAdd(id, number)) throw new FormatException($"{path}:{number}: item '{id}' is on line {lines[id]} too.");
            yield return new CatalogueLine(number, id, item);
        }
    }

    private static string? ReadLine(StreamReader reader, string path, int number)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path}:{number}: not valid UTF-8.");
        }
    }

    private static JsonElement Parse(string path, int number, string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}:{number}: not a JSON object: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new FormatException($"{path}:{number}: an item must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            return document.RootElement.Clone();
        }
    }
}
