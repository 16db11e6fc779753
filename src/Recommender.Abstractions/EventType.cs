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
}

public static class EventTypes
{
    /// <summary>Parses an event type name, ignoring case; false for anything not in <see cref="EventType"/>.</summary>
    public static bool TryParse(string? text, out EventType type)
    {
        type = default;
        if (string.IsNullOrWhiteSpace(text) || !Enum.TryParse(text, ignoreCase: true, out type)) return false;
        // Enum.TryParse also accepts numbers such as "3"; only names are part of the contract.
        return !char.IsAsciiDigit(text.Trim()[0]) && text.Trim()[0] != '-' && Enum.IsDefined(type);
    }

    public static string Name(EventType type) => type.ToString().ToLowerInvariant();

    public static string AllNames => string.Join(", ", Enum.GetValues<EventType>().Select(Name));
}
