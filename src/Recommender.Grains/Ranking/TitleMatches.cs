namespace Recommender.Grains.Ranking;

/// <summary>
/// Items found by a part of their title, for an operator looking an item up: a title equal to the text (ignoring case)
/// first, then one starting with it, then one holding it; the shorter title first within each, then the smaller id.
/// </summary>
public static class TitleMatches
{
    /// <summary>How closely <paramref name="title"/> matches <paramref name="text"/>: 0 equal, 1 starting with it, 2 holding it, null not at all.</summary>
    public static int? Closeness(string title, string text) =>
        title.Equals(text, StringComparison.OrdinalIgnoreCase) ? 0
        : title.StartsWith(text, StringComparison.OrdinalIgnoreCase) ? 1
        : title.Contains(text, StringComparison.OrdinalIgnoreCase) ? 2
        : null;

    /// <summary>The order of matches of one text: closeness, then title length, then id.</summary>
    public static IComparer<(string ItemId, string Title, int Closeness)> Order { get; } =
        Comparer<(string ItemId, string Title, int Closeness)>.Create((a, b) =>
            a.Closeness != b.Closeness ? a.Closeness.CompareTo(b.Closeness)
            : a.Title.Length != b.Title.Length ? a.Title.Length.CompareTo(b.Title.Length)
            : string.CompareOrdinal(a.ItemId, b.ItemId));
}
