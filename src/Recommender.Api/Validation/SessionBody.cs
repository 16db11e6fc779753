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
        if (Fields.RequiredList(body, "items", "a session", """the session's items, oldest first: {"items": ["id", ...]}""",
                "the ids of the items the session has had, oldest first ([] for none yet)", errors) is not { } value)
            return [];
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
