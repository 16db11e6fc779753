using System.Text;
using System.Text.Json;
using Recommender.Model.Data;

namespace Recommender.Model.Text;

/// <summary>
/// Item text from a catalogue file of JSON lines, each an item as the cluster's POST /items takes it (and as
/// `recommender import-items` sends it): its "title", "text" and "tags" composed with <see cref="ItemText"/>, exactly
/// as the cluster composes the text of an item written to it, so that vectors trained on are the ones served with.
/// Other fields (hidden, embedding, the window) are not text and are passed over.
/// </summary>
public static class CatalogueText
{
    /// <summary>External item id → composed text, for every item of the file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not an item object, or an id repeats (file:line named).</exception>
    public static IReadOnlyDictionary<string, string> Compose(string path)
    {
        InputFile.Require(path, "Catalogue file");
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var number = 0;
        try
        {
            while (reader.ReadLine() is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var document = Parse(path, number, line);
                var item = document.RootElement;
                var id = String(path, number, item, "id") ?? throw new FormatException($"{path}:{number}: the item has no \"id\" string.");
                if (id.Length == 0) throw new FormatException($"{path}:{number}: the item's id is empty.");
                if (!lines.TryAdd(id, number)) throw new FormatException($"{path}:{number}: item '{id}' is on line {lines[id]} too.");
                texts[id] = ItemText.Compose(String(path, number, item, "title"), String(path, number, item, "text"), Tags(path, number, item));
            }
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path}:{number + 1}: not valid UTF-8.");
        }
        return texts;
    }

    private static JsonDocument Parse(string path, int number, string line)
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
        if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
        var kind = document.RootElement.ValueKind.ToString().ToLowerInvariant();
        document.Dispose();
        throw new FormatException($"{path}:{number}: an item must be a JSON object, not {kind}.");
    }

    /// <summary>The field's string, null when absent or null; another kind is an error naming the field.</summary>
    private static string? String(string path, int number, JsonElement item, string field) =>
        !item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new FormatException($"{path}:{number}: \"{field}\" must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}.");

    private static List<string>? Tags(string path, int number, JsonElement item)
    {
        if (!item.TryGetProperty("tags", out var tags) || tags.ValueKind == JsonValueKind.Null) return null;
        if (tags.ValueKind != JsonValueKind.Array) throw new FormatException($"{path}:{number}: \"tags\" must be an array of strings.");
        return tags.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new FormatException($"{path}:{number}: \"tags\" must be an array of strings.")).ToList();
    }
}
