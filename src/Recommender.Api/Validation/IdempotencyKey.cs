using Microsoft.Extensions.Primitives;

namespace Recommender.Api.Validation;

/// <summary>
/// The Idempotency-Key request header of POST /events: a client's name for one request, so that resending it after a
/// timeout or a 503 stores nothing twice even for events without an event id or a timestamp. Sent bare
/// (<c>Idempotency-Key: 7f3c…</c>) or as a structured-field string in quotes (<c>Idempotency-Key: "7f3c…"</c>).
/// </summary>
public static class IdempotencyKey
{
    public const string HeaderName = "Idempotency-Key";

    public const int MaxLength = 255;

    /// <summary>The key, null when the header is absent; an invalid header adds an error naming it.</summary>
    public static string? Parse(StringValues values, ValidationErrors errors)
    {
        if (values.Count == 0) return null;
        if (values.Count > 1)
        {
            errors.Add(HeaderName, $"The {HeaderName} header is given {values.Count} times; send it once.");
            return null;
        }
        var key = values[0] ?? "";
        if (key.Length >= 2 && key[0] == '"' && key[^1] == '"') key = key[1..^1];
        if (key.Trim().Length == 0) errors.Add(HeaderName, $"The {HeaderName} header is empty.");
        else if (key.Length > MaxLength) errors.Add(HeaderName, $"The {HeaderName} header has {key.Length} characters; the limit is {MaxLength}.");
        else if (key.Any(c => c is < ' ' or > '~' or '"' or '\\'))
            errors.Add(HeaderName, $"The {HeaderName} header may hold printable ASCII characters only, without quotes or backslashes inside.");
        else return key;
        return null;
    }
}
