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
    public static readonly string[] FieldNames = ["items", VisitorField, UnknownItemsField];

    private const string VisitorField = "visitorId";

    private const string UnknownItemsField = "unknownItems";

    /// <summary>
    /// The session's items, its visitor id when given (which side of a candidate version the session is on; null: the
    /// active version's), and whether items not in the catalogue are accepted ("unknownItems": "accept") rather than refused.
    /// </summary>
    public static (string[] Items, string? VisitorId, bool AcceptUnknown) Parse(JsonElement body, ValidationErrors errors)
    {
        if (Fields.RequiredList(body, "items", "a session", """the session's items, oldest first: {"items": ["id", ...]}""",
                "the ids of the items the session has had, oldest first ([] for none yet)", errors, optional: [VisitorField, UnknownItemsField]) is not { } value)
            return ([], null, false);
        var items = ParseItems(value, errors);
        return (items, Fields.Id(body, VisitorField, VisitorField, errors, required: false), AcceptUnknown(body, errors));
    }

    /// <summary>"unknownItems": "refuse" (the default) or "accept".</summary>
    private static bool AcceptUnknown(JsonElement body, ValidationErrors errors)
    {
        if (!body.TryGetProperty(UnknownItemsField, out var value) || value.ValueKind == JsonValueKind.Null) return false;
        if (value.ValueKind == JsonValueKind.String && value.GetString() is "refuse" or "accept") return value.GetString() == "accept";
        errors.Add(UnknownItemsField, $"'{UnknownItemsField}' must be \"refuse\" (an item not in the catalogue is an error, the default) or \"accept\" "
            + "(it stays in the history, as in a stored user's, and the answer's notInCatalogue names it).");
        return false;
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
