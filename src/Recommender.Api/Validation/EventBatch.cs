using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>An event after validation, with its user.</summary>
public sealed record ValidEvent(string UserId, UserEvent Event);

/// <summary>
/// Validates a POST /events body (one event object or an array of them) as a whole: either every event is valid
/// and the batch is returned, or the errors of all of them are, keyed by index ("[3].type") for arrays.
/// </summary>
public static class EventBatch
{
    /// <summary>The fields an event object may have.</summary>
    public static readonly string[] FieldNames = ["userId", "itemId", "type", "value", "timestamp", "eventId"];

    /// <summary>
    /// With <paramref name="requestKey"/> (the request's Idempotency-Key), an event without an event id gets one from the
    /// key, its position and its content, so that the same request sent again is a duplicate even without timestamps.
    /// </summary>
    public static IReadOnlyList<ValidEvent> Parse(JsonElement body, DateTimeOffset now, ValidationErrors errors, string? requestKey = null)
    {
        var events = new List<ValidEvent>();
        switch (body.ValueKind)
        {
            case JsonValueKind.Object:
                Add(body, null);
                break;
            case JsonValueKind.Array when body.GetArrayLength() == 0:
                errors.Add("body", "The array holds no events.");
                break;
            case JsonValueKind.Array when body.GetArrayLength() > Limits.MaxEventsPerRequest:
                errors.Add("body", $"The array holds {body.GetArrayLength()} events; the limit is {Limits.MaxEventsPerRequest} a request (send larger loads in several requests).");
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var element in body.EnumerateArray()) Add(element, index++);
                break;
            default:
                errors.Add("body", "The body must be an event object or an array of event objects.");
                break;
        }
        return events;

        void Add(JsonElement e, int? index)
        {
            if (e.ValueKind != JsonValueKind.Object)
            {
                errors.Add(index is { } i ? $"[{i}]" : "body", "An event must be a JSON object.");
                return;
            }
            Fields.OnlyKnown(e, FieldNames, index, "an event", errors);
            var user = Fields.Id(e, "userId", ValidationErrors.Field(index, "userId"), errors);
            var item = Fields.Id(e, "itemId", ValidationErrors.Field(index, "itemId"), errors);
            var typeField = ValidationErrors.Field(index, "type");
            EventType? type = null;
            var typeText = Fields.Text(e, "type", typeField, 64, errors, required: true);
            if (typeText is not null) type = Fields.EventTypeNamed(typeText, typeField, errors);
            var timestamp = Fields.Timestamp(e, "timestamp", ValidationErrors.Field(index, "timestamp"), now, errors);
            var eventId = Fields.Id(e, "eventId", ValidationErrors.Field(index, "eventId"), errors, required: false);
            var valueField = ValidationErrors.Field(index, "value");
            var value = Fields.Number(e, "value", valueField, errors);
            // A rating's value is its stars; a purchase's the amount paid, which A/B tests sum as revenue.
            if (value is not null && type is not null && type is not (EventType.Rating or EventType.Purchase))
                errors.Add(valueField, "Only rating events (the stars) and purchase events (the amount paid) carry a value.");
            else if (value is < 0 && type == EventType.Purchase)
                errors.Add(valueField, $"A purchase's value is the amount paid, 0 or more; got {value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
            if (user is null || item is null || type is null || errors.Any) return;
            var time = timestamp ?? now;
            eventId ??= requestKey is null
                ? EventIds.Derive(user, item, type.Value, time)
                : EventIds.FromRequestKey(requestKey, index ?? 0, user, item, type.Value, timestamp, value);
            events.Add(new ValidEvent(user, new UserEvent(item, type.Value, time, eventId, value)));
        }
    }
}
