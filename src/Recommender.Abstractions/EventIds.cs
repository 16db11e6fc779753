using System.Security.Cryptography;
using System.Text;

namespace Recommender.Abstractions;

/// <summary>Event ids for events sent without one: the same (user, item, type, timestamp) always gets the same id, so a resend is a duplicate.</summary>
public static class EventIds
{
    public static string Derive(string userId, string itemId, EventType type, DateTimeOffset timestamp)
    {
        var key = string.Join('\u001f', userId, itemId, EventTypes.Name(type), timestamp.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return "auto-" + Convert.ToHexStringLower(hash[..16]);
    }
}
