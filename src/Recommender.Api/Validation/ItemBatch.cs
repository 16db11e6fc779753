using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>Validates item bodies: PUT /items/{id} (one object, id from the path) and POST /items (an array, each with its id).</summary>
public static class ItemBatch
{
    /// <summary>The fields an item object may have.</summary>
    public static readonly string[] FieldNames = ["id", "title", "text", "tags", "embedding", "hidden", "availableFrom", "expiresAt"];

    public static ItemDetails? ParseOne(JsonElement body, string id, int? dimension, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", "The body must be an item object.");
            return null;
        }
        if (body.TryGetProperty("id", out _) && Fields.Id(body, "id", "id", errors) is { } bodyId && bodyId != id)
            errors.Add("id", $"The body's id '{bodyId}' differs from the path's '{id}'.");
        return Parse(body, id, null, dimension, errors);
    }

    public static IReadOnlyList<ItemDetails> ParseMany(JsonElement body, int? dimension, ValidationErrors errors)
    {
        if (!IsBatch(body, "an array of item objects", "items", Limits.MaxItemsPerRequest, "send larger catalogues in several requests", errors)) return [];
        var items = new List<ItemDetails>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in body.EnumerateArray())
        {
            var i = index++;
            if (element.ValueKind != JsonValueKind.Object) { errors.Add($"[{i}]", "An item must be a JSON object."); continue; }
            var id = Fields.Id(element, "id", ValidationErrors.Field(i, "id"), errors);
            if (id is not null && !seen.Add(id)) errors.Add(ValidationErrors.Field(i, "id"), $"Item '{id}' appears more than once in the batch.");
            if (Parse(element, id, i, dimension, errors) is { } item) items.Add(item);
        }
        return errors.Any ? [] : items;
    }

    /// <summary>
    /// The change PATCH /items/{id} asks for (a JSON merge patch of the item object): the fields given, a null removing
    /// text, tags, availableFrom or expiresAt, or making hidden false; title and embedding cannot be removed, and a body
    /// that changes nothing is refused. The window is checked here when both ends are given, else by the item.
    /// </summary>
    public static ItemChange? ParseChange(JsonElement body, string id, int? dimension, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", "The body must be an object of the item's fields to change (a JSON merge patch).");
            return null;
        }
        if (body.TryGetProperty("id", out _) && Fields.Id(body, "id", "id", errors) is { } bodyId && bodyId != id)
            errors.Add("id", $"The body's id '{bodyId}' differs from the path's '{id}'; an item's id cannot be changed.");
        return Change(body, null, dimension, errors);
    }

    /// <summary>
    /// The changes PATCH /items asks for: a JSON array of 1 to 500 objects, each an item's id and a merge patch of its
    /// fields as PATCH /items/{id} takes one, each item once; errors are named by element (<c>[2].title</c>).
    /// </summary>
    public static IReadOnlyList<(string Id, ItemChange Change, ItemPrecondition Precondition)> ParseChanges(JsonElement body, int? dimension, ValidationErrors errors)
    {
        if (!IsBatch(body, "an array of item changes, each the item's id and the fields to change", "changes", Limits.MaxItemsPerRequest,
                "send more in several requests", errors)) return [];
        var changes = new List<(string, ItemChange, ItemPrecondition)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in body.EnumerateArray())
        {
            var i = index++;
            if (element.ValueKind != JsonValueKind.Object) { errors.Add($"[{i}]", "A change must be a JSON object: the item's id and the fields to change."); continue; }
            var id = Fields.Id(element, "id", ValidationErrors.Field(i, "id"), errors);
            if (id is not null && !seen.Add(id)) errors.Add(ValidationErrors.Field(i, "id"), $"Item '{id}' appears more than once in the batch.");
            var precondition = IfVersion(element, i, errors);
            if (Change(element, i, dimension, errors, BatchChangeFieldNames) is { } change && id is not null && precondition is not null) changes.Add((id, change, precondition));
        }
        return errors.Any ? [] : changes;
    }

    /// <summary>The fields of an element of PATCH /items: an item's, and the version it must still be at.</summary>
    public static readonly string[] BatchChangeFieldNames = [.. FieldNames, "ifVersion"];

    /// <summary>
    /// The condition of one change of a batch: <c>ifVersion</c>, the item's version as its answers give it (a string
    /// of digits, its ETag without the quotes), so that the item is changed only while still at it; none without it.
    /// </summary>
    private static ItemPrecondition? IfVersion(JsonElement e, int index, ValidationErrors errors)
    {
        if (!e.TryGetProperty("ifVersion", out var value) || value.ValueKind == JsonValueKind.Null) return ItemPrecondition.None;
        if (value.ValueKind == JsonValueKind.String && EntityTags.Number($"\"{value.GetString()}\"") is { } version) return new ItemPrecondition([version]);
        errors.Add(ValidationErrors.Field(index, "ifVersion"),
            "'ifVersion' must be an item's version as its answers give it, a string of digits such as \"638700000000000000\" (the item's \"version\", its ETag without the quotes).");
        return null;
    }

    /// <summary>One merge patch of an item's fields, its errors named by <paramref name="index"/> in a batch.</summary>
    private static ItemChange? Change(JsonElement e, int? index, int? dimension, ValidationErrors errors, IReadOnlyList<string>? known = null)
    {
        var before = errors.Count;
        string Key(string name) => ValidationErrors.Field(index, name);
        Fields.OnlyKnown(e, known ?? FieldNames, index, "an item", errors);
        bool Given(string name) => e.TryGetProperty(name, out _);
        bool Removed(string name) => e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Null;
        foreach (var name in new[] { "title", "embedding" })
            if (Removed(name)) errors.Add(Key(name), $"'{name}' cannot be removed; give a new value or leave it out to keep it.");
        var change = new ItemChange(
            Title: Given("title") ? Fields.Text(e, "title", Key("title"), Limits.MaxTitleLength, errors, required: !Removed("title")) : null,
            ChangesText: Given("text"),
            Text: Fields.Text(e, "text", Key("text"), Limits.MaxTextLength, errors, required: false),
            Tags: Given("tags") ? Fields.Tags(e, "tags", Key("tags"), errors) : null,
            Embedding: Fields.Embedding(e, "embedding", Key("embedding"), dimension, errors) is { } embedding ? VectorBytes.FromFloats(embedding) : null,
            Hidden: Given("hidden") ? Fields.Boolean(e, "hidden", Key("hidden"), errors) : null,
            ChangesAvailableFrom: Given("availableFrom"),
            AvailableFrom: Fields.Instant(e, "availableFrom", Key("availableFrom"), errors),
            ChangesExpiresAt: Given("expiresAt"),
            ExpiresAt: Fields.Instant(e, "expiresAt", Key("expiresAt"), errors));
        if (ItemDetails.WindowProblem(change.AvailableFrom, change.ExpiresAt) is { } window) errors.Add(Key("expiresAt"), window);
        if (errors.Count == before && !FieldNames.Any(name => name != "id" && Given(name)))
            errors.Add(index is { } i ? $"[{i}]" : "body", $"Nothing to change: give at least one of {string.Join(", ", FieldNames.Where(n => n != "id"))}.");
        return errors.Count == before ? change : null;
    }

    /// <summary>The ids of a deletion or a lookup (POST /items/delete, /items/lookup): a JSON array of 1 to 1,000 distinct item ids.</summary>
    public static string[] ParseIds(JsonElement body, ValidationErrors errors)
    {
        if (!IsBatch(body, "a JSON array of item ids", "ids", Limits.MaxIdsPerRequest, "send more in several requests", errors)) return [];
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var element in body.EnumerateArray())
        {
            var key = $"[{index++}]";
            if (element.ValueKind != JsonValueKind.String) { errors.Add(key, "An item id must be a JSON string."); continue; }
            var id = element.GetString()!;
            if (Limits.IdProblem(id) is { } problem) errors.Add(key, $"The id {problem}.");
            else if (!seen.Add(id)) errors.Add(key, $"Item '{id}' appears more than once in the batch.");
            else ids.Add(id);
        }
        return errors.Any ? [] : [.. ids];
    }

    /// <summary>Whether the body is an array of 1 to <paramref name="limit"/> elements; otherwise the problem is named under "body".</summary>
    private static bool IsBatch(JsonElement body, string shape, string elements, int limit, string advice, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Array) errors.Add("body", $"The body must be {shape}.");
        else if (body.GetArrayLength() == 0) errors.Add("body", $"The array holds no {elements}.");
        else if (body.GetArrayLength() > limit) errors.Add("body", $"The array holds {body.GetArrayLength()} {elements}; the limit is {limit} a request ({advice}).");
        else return true;
        return false;
    }

    private static ItemDetails? Parse(JsonElement e, string? id, int? index, int? dimension, ValidationErrors errors)
    {
        Fields.OnlyKnown(e, FieldNames, index, "an item", errors);
        var title = Fields.Text(e, "title", ValidationErrors.Field(index, "title"), Limits.MaxTitleLength, errors, required: true);
        var text = Fields.Text(e, "text", ValidationErrors.Field(index, "text"), Limits.MaxTextLength, errors, required: false);
        var tags = Fields.Tags(e, "tags", ValidationErrors.Field(index, "tags"), errors);
        var embedding = Fields.Embedding(e, "embedding", ValidationErrors.Field(index, "embedding"), dimension, errors);
        var hidden = Fields.Boolean(e, "hidden", ValidationErrors.Field(index, "hidden"), errors);
        var availableFrom = Fields.Instant(e, "availableFrom", ValidationErrors.Field(index, "availableFrom"), errors);
        var expiresAt = Fields.Instant(e, "expiresAt", ValidationErrors.Field(index, "expiresAt"), errors);
        if (ItemDetails.WindowProblem(availableFrom, expiresAt) is { } window) errors.Add(ValidationErrors.Field(index, "expiresAt"), window);
        if (id is null || title is null || errors.Any) return null;
        return new ItemDetails(id, title, text, tags, embedding is null ? null : VectorBytes.FromFloats(embedding), Hidden: hidden, ExpiresAt: expiresAt, AvailableFrom: availableFrom);
    }
}
