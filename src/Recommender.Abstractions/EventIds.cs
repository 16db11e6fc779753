using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Recommender.Abstractions;

/// <summary>Event ids for events sent without one, chosen so that a resend is a duplicate rather than a second event.</summary>
public static class EventIds
{
    /// <summary>The same (user, item, type, timestamp) always gets the same id.</summary>
    public static string Derive(string userId, string itemId, EventType type, DateTimeOffset timestamp) =>
        Hash(userId, itemId, EventTypes.Name(type), Ticks(timestamp));

    /// <summary>
    /// For a request sent with an idempotency key: the same key, position in the batch and event content always get the
    /// same id, whatever time the server stamps on an event sent without a timestamp. The content is part of it, so a key
    /// reused for different events stores them instead of dropping them as duplicates.
    /// </summary>
    public static string FromRequestKey(string requestKey, int index, string userId, string itemId, EventType type, DateTimeOffset? timestamp, double? value) =>
        Hash("request-key", requestKey, index.ToString(CultureInfo.InvariantCulture), userId, itemId, EventTypes.Name(type),
            timestamp is { } t ? Ticks(t) : "", value is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "");

    private static string Ticks(DateTimeOffset timestamp) => timestamp.UtcTicks.ToString(CultureInfo.InvariantCulture);

    private static string Hash(params string[] parts)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\u001f', parts)), hash);
        return "auto-" + Convert.ToHexStringLower(hash[..16]);
    }
}
