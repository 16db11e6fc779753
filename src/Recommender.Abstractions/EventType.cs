namespace Recommender.Abstractions;

/// <summary>The kinds of behaviour the engine records.</summary>
[GenerateSerializer, Alias("recommender.event-type")]
public enum EventType
{
    View = 0,
    Click = 1,
    Cart = 2,
    Purchase = 3,
    Like = 4,
    Rating = 5,

    /// <summary>
    /// The user turned the item down ("not interested"): kept in the history, never recommended to the user again
    /// (unless a later event of theirs takes it up), and not read as interest by the model or the popular list.
    /// </summary>
    Dismiss = 6,
}

public static class EventTypes
{
    private static readonly Dictionary<string, EventType> ByName =
        Enum.GetValues<EventType>().ToDictionary(Name, t => t, StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses an event type name, ignoring case; false for anything else (numbers, "view,click", padding).</summary>
    public static bool TryParse(string? text, out EventType type)
    {
        type = default;
        // An exact name only: Enum.TryParse would also take numbers, "+3" and comma-joined combinations.
        return text is not null && ByName.TryGetValue(text, out type);
    }

    public static string Name(EventType type) => type.ToString().ToLowerInvariant();

    /// <summary>Whether the event says the user wants the item (every type but a dismissal).</summary>
    public static bool IsInterest(this EventType type) => type != EventType.Dismiss;

    public static string AllNames => string.Join(", ", Enum.GetValues<EventType>().Select(Name));
}
