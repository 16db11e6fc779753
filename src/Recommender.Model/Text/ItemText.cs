using System.Text;

namespace Recommender.Model.Text;

/// <summary>
/// The one place that turns an item's catalogue fields into the sentence the text encoder reads, so training,
/// export and serving describe an item identically. For MovieLens, text = genres joined by ", " and tags = user tags.
/// </summary>
public static class ItemText
{
    /// <summary>Recorded in the package manifest; empty parts (and their punctuation) are left out.</summary>
    public const string Template = "{title}. {text}. Tags: {tag1}, {tag2}, ...";

    /// <summary>
    /// Longest composed text, in characters. A word-piece token spans at least one character, so this keeps every
    /// composed text (plus the two special tokens) inside the encoder's 512 positions.
    /// </summary>
    public const int MaxLength = 500;

    public static string Compose(string? title, string? text, IReadOnlyList<string>? tags)
    {
        var parts = new List<string>(3);
        var cleanTitle = Clean(title);
        if (cleanTitle.Length > 0) parts.Add(cleanTitle);
        var cleanText = Clean(text);
        if (cleanText.Length > 0) parts.Add(cleanText);
        if (tags is not null)
        {
            // Distinct case-insensitively, first spelling kept, in the given order: the caller decides tag order.
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var kept = new List<string>();
            foreach (var tag in tags)
            {
                var cleanTag = Clean(tag);
                if (cleanTag.Length > 0 && seen.Add(cleanTag)) kept.Add(cleanTag);
            }
            if (kept.Count > 0) parts.Add("Tags: " + string.Join(", ", kept));
        }
        var composed = string.Join(". ", parts);
        if (composed.Length <= MaxLength) return composed;
        var cut = composed[..MaxLength];
        // Do not leave half a surrogate pair behind.
        if (char.IsHighSurrogate(cut[^1])) cut = cut[..^1];
        return cut.TrimEnd();
    }

    /// <summary>Collapses whitespace runs to single spaces and trims trailing sentence dots, so "Title." does not become "Title..".</summary>
    private static string Clean(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return "";
        var builder = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { space = builder.Length > 0; continue; }
            if (space) builder.Append(' ');
            space = false;
            builder.Append(c);
        }
        return builder.ToString().TrimEnd('.', ' ');
    }
}
