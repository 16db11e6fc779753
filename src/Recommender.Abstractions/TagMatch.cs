namespace Recommender.Abstractions;

/// <summary>
/// The tag filters of a request: an item is listed when it carries one of the tags asked for (any item when none
/// is) and none of the tags left out, tags compared ignoring case.
/// </summary>
public static class TagMatch
{
    public static bool Matches(IEnumerable<string>? itemTags, IReadOnlyCollection<string> anyOf, IReadOnlyCollection<string> noneOf)
    {
        if (anyOf.Count == 0 && noneOf.Count == 0) return true;
        var tags = itemTags?.ToArray() ?? [];
        return (anyOf.Count == 0 || tags.Any(t => anyOf.Contains(t, StringComparer.OrdinalIgnoreCase)))
            && !tags.Any(t => noneOf.Contains(t, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The tags asked for as the two fields a request carries: <c>Tag</c>, the one field a release before several tags
    /// reads (the first tag: a silo of that release lists a part of what was asked, never more), and <c>Tags</c>, set only
    /// for more than one.
    /// </summary>
    public static (string? Tag, string[]? Tags) Fields(IReadOnlyList<string> anyOf) =>
        anyOf.Count switch { 0 => (null, null), 1 => (anyOf[0], null), _ => (anyOf[0], [.. anyOf]) };

    /// <summary>The tags asked for, read back from those two fields.</summary>
    public static IReadOnlyList<string> AnyOf(string? tag, string[]? tags) => tags ?? (tag is null ? [] : [tag]);
}
