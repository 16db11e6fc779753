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
    /// <exception cref="FormatException">A line is not an item object, an id repeats, or a text field is not text (file:line named).</exception>
    public static IReadOnlyDictionary<string, string> Compose(string path) =>
        CatalogueFile.Read(path).ToDictionary(
            line => line.Id,
            line => ItemText.Compose(String(path, line.Line, line.Item, "title"), String(path, line.Line, line.Item, "text"), Tags(path, line.Line, line.Item)),
            StringComparer.Ordinal);

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
