using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>Validates a POST /users/recommendations body: <c>{"users": [...]}</c>, the ids of the users whose lists are read.</summary>
public static class UsersBody
{
    /// <summary>The fields the object may have.</summary>
    public static readonly string[] FieldNames = ["users"];

    public static string[] Parse(JsonElement body, ValidationErrors errors)
    {
        if (Fields.RequiredList(body, "users", "a users request", """the users: {"users": ["id", ...]}""",
                "the ids of the users whose recommendations are wanted", errors) is not { } value)
            return [];
        if (value.GetArrayLength() is 0 or > Limits.MaxUsersPerRequest)
        {
            errors.Add("users", $"'users' holds {value.GetArrayLength()} ids; from 1 to {Limits.MaxUsersPerRequest} may be asked for at once.");
            return [];
        }
        var users = new List<string>(value.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var field = $"users[{index++}]";
            if (Fields.IdValue(element, field, field, errors) is not { } id) continue;
            if (!seen.Add(id)) errors.Add(field, $"User '{id}' appears more than once.");
            users.Add(id);
        }
        return errors.Any ? [] : users.ToArray();
    }
}
