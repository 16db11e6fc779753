using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>
/// Validates a POST /recommendations body: <c>{"items": [...], "visitorId": "..."}</c>, the ids of the items a session
/// has had, oldest first, and optionally the anonymous visitor's id.
/// </summary>
public static class SessionBody
{
    /// <summary>The fields a session object may have.</summary>
    public static readonly string[] FieldNames = ["items", VisitorField];

    private const string VisitorField = "visitorId";

    /// <summary>
    /// The session's items, and its visitor id when given: which side of a candidate version the session is on (null:
    /// the active version's).
    /// </summary>
    public static (string[] Items, string? VisitorId) Parse(JsonElement body, ValidationErrors errors)
    {
        if (Fields.RequiredList(body, "items", "a session", """the session's items, oldest first: {"items": ["id", ...]}""",
                "the ids of the items the session has had, oldest first ([] for none yet)", errors, optional: [VisitorField]) is not { } value)
            return ([], null);
        var items = ParseItems(value, errors);
        return (items, Fields.Id(body, VisitorField, VisitorField, errors, required: false));
    }

    private static string[] ParseItems(JsonElement value, ValidationErrors errors)
    {
        if (value.GetArrayLength() > Limits.MaxSessionItems)
        {
            errors.Add("items", $"'items' holds {value.GetArrayLength()} ids; the limit is {Limits.MaxSessionItems} (the model reads only the most recent ones).");
            return [];
        }
        var items = new List<string>(value.GetArrayLength());
        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var field = $"items[{index++}]";
            if (Fields.IdValue(element, field, field, errors) is { } id) items.Add(id);
        }
        return errors.Any ? [] : items.ToArray();
    }
}
