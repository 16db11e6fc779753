using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>Validates a POST /recommendations body: <c>{"items": [...]}</c>, the ids of the items a session has had, oldest first.</summary>
public static class SessionBody
{
    /// <summary>The fields a session object may have.</summary>
    public static readonly string[] FieldNames = ["items"];

    public static string[] Parse(JsonElement body, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", """The body must be an object naming the session's items, oldest first: {"items": ["id", ...]}.""");
            return [];
        }
        Fields.OnlyKnown(body, FieldNames, null, "a session", errors);
        if (!body.TryGetProperty("items", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            errors.Add("items", "'items' is required: the ids of the items the session has had, oldest first ([] for none yet).");
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add("items", "'items' must be an array of item ids.");
            return [];
        }
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
