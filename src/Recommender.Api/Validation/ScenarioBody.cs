using System.Globalization;
using System.Text.Json;
using Recommender.Abstractions;

namespace Recommender.Api.Validation;

/// <summary>
/// Validates a PUT /scenarios/{name} body: <c>{"tag": [...], "excludeTag": [...], "exclude": [...], "boost": [...], "cap": [...],
/// "capEach": [...], "pin": [...], "slot": [...], "diversity": 0.3, "k": 12, "includeSeen": false, "fresh": "6h:3", "maxAge": "2d"}</c>, every field
/// optional, each list (and "fresh", "maxAge") holding what the query parameter of its name takes (such as "sale:2" for a boost) and checked the same way.
/// </summary>
public static class ScenarioBody
{
    public static readonly string[] FieldNames = ["tag", "excludeTag", "exclude", "boost", "cap", "capEach", "pin", "slot", "diversity", "k", "includeSeen", "activeFrom", "activeUntil", "fresh", "maxAge"];

    public static Scenario? Parse(JsonElement body, DateTimeOffset now, ValidationErrors errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", """The body must be an object of list rules, such as {"boost": ["sale:2"], "capEach": ["brand::2"]}.""");
            return null;
        }
        Fields.OnlyKnown(body, FieldNames, null, "a scenario", errors);
        var tags = Fields.Tags(Strings(body, "tag", errors), "tag", errors);
        var excluded = Fields.Tags(Strings(body, "excludeTag", errors), "excludeTag", errors);
        var excludedItems = ItemIds(body, errors);
        var boosts = Fields.Boosts(Strings(body, "boost", errors), errors);
        var caps = Fields.Caps(Strings(body, "cap", errors), Strings(body, "capEach", errors), errors);
        var pins = Fields.Pins(Strings(body, "pin", errors), errors);
        var slotValues = Strings(body, "slot", errors);
        float? diversity = null;
        if (body.TryGetProperty("diversity", out var value) && value.ValueKind != JsonValueKind.Null)
        {
            if (value.ValueKind == JsonValueKind.Number) diversity = Fields.Diversity(value.GetRawText(), errors);
            else errors.Add("diversity", "diversity must be a number from 0 (the most relevant items) to 1 (items as unlike each other as the best 4·k allow), such as 0.3.");
        }
        int? k = null;
        if (body.TryGetProperty("k", out var length) && length.ValueKind != JsonValueKind.Null)
        {
            if (length.ValueKind == JsonValueKind.Number && length.TryGetInt32(out var count) && count is >= 1 and <= Limits.MaxK) k = count;
            else errors.Add("k", $"k must be an integer from 1 to {Limits.MaxK}: how many items the scenario's lists hold unless a request says.");
        }
        bool? includeSeen = null;
        if (body.TryGetProperty("includeSeen", out var seen) && seen.ValueKind != JsonValueKind.Null)
        {
            if (seen.ValueKind is JsonValueKind.True or JsonValueKind.False) includeSeen = seen.GetBoolean();
            else errors.Add("includeSeen", "includeSeen must be true or false.");
        }
        var activeFrom = Fields.Instant(body, "activeFrom", "activeFrom", errors);
        var activeUntil = Fields.Instant(body, "activeUntil", "activeUntil", errors);
        var slots = Fields.Slots(slotValues, errors);
        Freshness? fresh = null;
        if (body.TryGetProperty("fresh", out var freshValue) && freshValue.ValueKind != JsonValueKind.Null)
        {
            if (freshValue.ValueKind == JsonValueKind.String) fresh = Fields.Fresh(freshValue.GetString(), errors);
            else errors.Add("fresh", "'fresh' must be a string as the fresh= query parameter takes it, such as \"6h:3\".");
        }
        TimeSpan? maxAge = null;
        if (body.TryGetProperty("maxAge", out var ageValue) && ageValue.ValueKind != JsonValueKind.Null)
        {
            if (ageValue.ValueKind == JsonValueKind.String) maxAge = Fields.MaxAge(ageValue.GetString(), errors);
            else errors.Add("maxAge", "'maxAge' must be a string as the maxAge= query parameter takes it, such as \"2d\".");
        }
        if (activeFrom >= activeUntil)
            errors.Add("activeUntil", $"'activeUntil' {activeUntil:O} must be later than 'activeFrom' {activeFrom:O}.");
        return errors.Any ? null : new Scenario(tags.Length == 0 ? null : tags, excluded.Length == 0 ? null : excluded, boosts, caps, diversity, now, k, includeSeen,
            activeFrom, activeUntil, excludedItems, pins, Slots: slots, Fresh: fresh, MaxAge: maxAge);
    }

    /// <summary>The optional "exclude": item ids (strings, or integers as written), each checked as an id, each once, at most <see cref="Limits.MaxScenarioExclude"/>.</summary>
    private static string[]? ItemIds(JsonElement body, ValidationErrors errors)
    {
        if (!body.TryGetProperty("exclude", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add("exclude", "'exclude' must be an array of item ids to leave out of the scenario's lists, such as [\"42\", \"sku-7\"].");
            return null;
        }
        var ids = new List<string>();
        var index = 0;
        foreach (var entry in value.EnumerateArray())
        {
            if (Fields.IdValue(entry, $"exclude[{index}]", "exclude", errors) is { } id && !ids.Contains(id, StringComparer.Ordinal)) ids.Add(id);
            index++;
        }
        if (ids.Count > Limits.MaxScenarioExclude)
            errors.Add("exclude", $"'exclude' holds {ids.Count} item ids; a scenario leaves out at most {Limits.MaxScenarioExclude} (hide an item from every list with \"hidden\": true).");
        return ids.Count == 0 ? null : [.. ids];
    }

    /// <summary>An optional array of strings (null when absent), each entry as the query parameter of the same name would be given.</summary>
    private static string[]? Strings(JsonElement body, string name, ValidationErrors errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String))
            return [.. value.EnumerateArray().Select(v => v.GetString()!)];
        errors.Add(name, $"'{name}' must be an array of strings, each as the {name}= query parameter takes it.");
        return null;
    }

    /// <summary>A scenario's boosts, caps and the rest in the forms a body (and the query parameters) give them, and whether its rules hold at <paramref name="now"/>.</summary>
    public static ScenarioResponse Describe(string name, Scenario scenario, DateTimeOffset now) => new(
        name,
        scenario.Tags ?? [],
        scenario.ExcludeTags ?? [],
        scenario.Exclude ?? [],
        [.. (scenario.Boosts ?? []).Select(b => $"{b.Tag}:{b.Factor.ToString("R", CultureInfo.InvariantCulture)}")],
        [.. (scenario.Caps ?? []).Where(c => !c.Each).Select(c => $"{c.Tag}:{c.Count.ToString(CultureInfo.InvariantCulture)}")],
        [.. (scenario.Caps ?? []).Where(c => c.Each).Select(c => $"{(c.Tag.Length == 0 ? "*" : c.Tag)}:{c.Count.ToString(CultureInfo.InvariantCulture)}")],
        [.. (scenario.Pins ?? []).Select(p => $"{p.ItemId}:{p.Position.ToString(CultureInfo.InvariantCulture)}")],
        [.. (scenario.Slots ?? []).Select(s => $"{s.Tag}:{s.Position.ToString(CultureInfo.InvariantCulture)}")],
        scenario.Diversity,
        scenario.K,
        scenario.IncludeSeen,
        scenario.UpdatedAt,
        scenario.ActiveFrom,
        scenario.ActiveUntil,
        scenario.ActiveAt(now),
        scenario.Revision > 0 ? scenario.Revision : null,
        scenario.Fresh is { } fresh ? Fields.Format(fresh) : null,
        scenario.MaxAge is { } maxAge ? Fields.Format(maxAge) : null);
}

/// <summary>
/// A scenario as GET and PUT /scenarios/{name} give it: its rules in the forms the query parameters take, whether
/// they hold now (<see cref="Active"/>: within activeFrom and activeUntil, when set), and the revision of the scenarios
/// that stored it (<see cref="Revision"/>, its ETag on /scenarios/{name}; absent for a record stored before scenarios
/// kept their own).
/// </summary>
public sealed record ScenarioResponse(string Name, string[] Tag, string[] ExcludeTag, string[] Exclude, string[] Boost, string[] Cap, string[] CapEach, string[] Pin, string[] Slot, float? Diversity,
    int? K, bool? IncludeSeen, DateTimeOffset UpdatedAt, DateTimeOffset? ActiveFrom, DateTimeOffset? ActiveUntil, bool Active,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull),
        System.ComponentModel.Description("The revision of the scenarios that stored this scenario: its ETag on /scenarios/{name}, which If-Match takes to change "
            + "it only while it is as read, whatever other scenarios did since.")] long? Revision = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull),
        System.ComponentModel.Description("HALFLIFE:FACTOR, the scenario's freshness boost (as fresh=).")] string? Fresh = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull),
        System.ComponentModel.Description("The scenario's maximum age (as maxAge=).")] string? MaxAge = null);

/// <summary>GET /scenarios: every scenario, by name, at the revision the ETag header names too.</summary>
public sealed record ScenariosResponse(long Revision, ScenarioResponse[] Scenarios);

/// <summary>
/// PUT and PATCH /scenarios: the scenarios stored anew, those given with the rules they had (kept as they were) and
/// those deleted, each in name order; for a dry run, what would be, with nothing changed. <see cref="Changes"/> gives
/// each stored or deleted scenario's rules before and after (null: none), so that a change can be reviewed first.
/// <see cref="Revision"/> is the scenarios' revision after the change (for a dry run, now: the one to send in If-Match
/// so that the change is made only as reviewed).
/// </summary>
public sealed record ScenariosAppliedResponse(bool DryRun, long Revision, string[] Put, string[] Unchanged, string[] Deleted, ScenarioChange[] Changes);

/// <summary>One scenario's rules before a change and after it (null where there was none, or is none).</summary>
public sealed record ScenarioChange(string Name, ScenarioResponse? Before, ScenarioResponse? After);

/// <summary>
/// GET /scenario-history: the scenarios' revision now, the earliest revision the history reaches back to (the earliest
/// they can be restored to), and the recent changes, newest first.
/// </summary>
public sealed record ScenarioHistoryResponse(long Revision, long Oldest, ScenarioRevisionResponse[] Changes);

/// <summary>
/// One change: the revision it made, when, who made it (<see cref="By"/>: the API key, or on an API without keys the
/// address it came from; null for changes made before authors were kept), the note it was sent with, and every scenario
/// it stored or deleted with its rules before and after.
/// </summary>
public sealed record ScenarioRevisionResponse(long Revision, DateTimeOffset At, string? By, string? Note, ScenarioChange[] Changes);

/// <summary>DELETE /scenarios/{name}: whether there was one to delete.</summary>
public sealed record DeletedScenarioResponse(string Name, bool Deleted);
