using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>
/// Validates a POST /events/delete body: a JSON array of 1 to 1,000 objects, each a user's id and what of the user's
/// history to take back, as DELETE /users/{id}/items/{itemId} (itemId, optionally type) or /users/{id}/events/{eventId}
/// (eventId) names it; errors are named by element (<c>[2].itemId</c>).
/// </summary>
public static class EventRemovalBatch
{
    /// <summary>The fields an element may have.</summary>
    public static readonly string[] FieldNames = ["userId", "itemId", "type", "eventId"];

    public static IReadOnlyList<(string UserId, EventRemoval Removal)> Parse(JsonElement body, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Array)
        {
            errors.Add("body", "The body must be a JSON array of take-backs, each a userId and an itemId (optionally a type) or an eventId.");
            return [];
        }
        if (body.GetArrayLength() is 0 or > Limits.MaxEventsPerRequest)
        {
            errors.Add("body", $"The array holds {body.GetArrayLength()} take-backs; from 1 to {Limits.MaxEventsPerRequest} may be sent at once.");
            return [];
        }
        var removals = new List<(string, EventRemoval)>();
        var index = 0;
        foreach (var e in body.EnumerateArray())
        {
            var i = index++;
            if (e.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"[{i}]", "A take-back must be a JSON object: a userId and an itemId (optionally a type) or an eventId.");
                continue;
            }
            var before = errors.Count;
            Fields.OnlyKnown(e, FieldNames, i, "a take-back", errors);
            var user = Fields.Id(e, "userId", ValidationErrors.Field(i, "userId"), errors);
            var item = Fields.Id(e, "itemId", ValidationErrors.Field(i, "itemId"), errors, required: false);
            var eventId = Fields.Id(e, "eventId", ValidationErrors.Field(i, "eventId"), errors, required: false);
            var type = Fields.Text(e, "type", ValidationErrors.Field(i, "type"), 64, errors, required: false) is { } typeText
                ? Fields.EventTypeNamed(typeText, ValidationErrors.Field(i, "type"), errors)
                : null;
            if (errors.Count > before) continue;
            if ((item is null) == (eventId is null))
                errors.Add($"[{i}]", "Give either itemId (every event of the item, or of one type with type) or eventId (one event), not both and not neither.");
            else if (type is not null && item is null)
                errors.Add(ValidationErrors.Field(i, "type"), "type picks among an item's events: give it with itemId, not with eventId.");
            else
                removals.Add((user!, new EventRemoval(item, type, eventId)));
        }
        return errors.Any ? [] : removals;
    }
}
