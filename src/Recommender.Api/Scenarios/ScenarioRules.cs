using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Scenarios;

/// <summary>
/// How a scenario's rules join a request's own parameters. The request wins where it speaks: its tag=, diversity=, k=,
/// includeSeen=, fresh= and maxAge= replace the scenario's; a tag it boosts or caps (capEach: a prefix) takes the request's factor or
/// count; an item or a place it pins takes the request's pin, and a place it gives a slot the request's slot. The rest
/// add up: excluded tags and excluded items of both, and the boosts, caps, pins and slots of both on other tags, items and places.
/// </summary>
public static class ScenarioRules
{
    /// <summary>Which of the parameters a scenario may set the request gave itself.</summary>
    public readonly record struct Given(bool Tag, bool Diversity, bool K, bool IncludeSeen);

    /// <summary>
    /// <paramref name="request"/> under the scenario <paramref name="name"/> at <paramref name="now"/> (outside the
    /// scenario's time, the request as it is, labelled with the name only); null with the problem named under
    /// "scenario" when the two together pass a limit, or page a diverse list.
    /// </summary>
    public static RecommendationRequest? Apply(RecommendationRequest request, string name, Scenario scenario, Given given, ValidationErrors errors, DateTimeOffset now)
    {
        // Counted under its name either way, so that a campaign's lists compare with those before and after it.
        if (!scenario.ActiveAt(now)) return request with { Scenario = name };
        var (tag, tags) = given.Tag || scenario.Tags is not { Length: > 0 } ? (request.Tag, request.Tags) : TagMatch.Fields(scenario.Tags);
        string[] excluded = [.. (request.ExcludeTags ?? []).Concat(scenario.ExcludeTags ?? []).Distinct(StringComparer.OrdinalIgnoreCase)];
        string[] excludedItems = [.. (request.Exclude ?? []).Concat(scenario.Exclude ?? []).Distinct(StringComparer.Ordinal)];
        var diversity = given.Diversity ? request.Diversity : scenario.Diversity ?? 0;
        var k = given.K ? request.K : scenario.K ?? request.K;
        var includeSeen = given.IncludeSeen ? request.IncludeSeen : scenario.IncludeSeen ?? request.IncludeSeen;
        TagBoost[] boosts = [.. request.Boosts ?? [],
            .. (scenario.Boosts ?? []).Where(b => request.Boosts?.Any(r => string.Equals(r.Tag, b.Tag, StringComparison.OrdinalIgnoreCase)) != true)];
        TagCap[] caps = [.. request.Caps ?? [],
            .. (scenario.Caps ?? []).Where(c => request.Caps?.Any(r => r.Each == c.Each && string.Equals(r.Tag, c.Tag, StringComparison.OrdinalIgnoreCase)) != true)];
        ItemPin[] pins = [.. request.Pins ?? [],
            .. (scenario.Pins ?? []).Where(p => request.Pins?.Any(r => r.ItemId == p.ItemId || r.Position == p.Position) != true)];
        if (pins.Length > Limits.MaxPins)
            errors.Add("scenario", $"pin with scenario '{name}''s pins makes {pins.Length}; the limit is {Limits.MaxPins}.");
        TagSlot[] slots = [.. request.Slots ?? [], .. (scenario.Slots ?? []).Where(s => request.Slots?.Any(r => r.Position == s.Position) != true)];
        if (slots.Length > Limits.MaxSlots)
            errors.Add("scenario", $"slot with scenario '{name}''s slots makes {slots.Length}; the limit is {Limits.MaxSlots}.");
        if (excluded.Length > Limits.MaxTags)
            errors.Add("scenario", $"excludeTag with scenario '{name}''s excluded tags makes {excluded.Length}; the limit is {Limits.MaxTags}.");
        if (excludedItems.Length > Limits.MaxExclude)
            errors.Add("scenario", $"exclude and excludeId with scenario '{name}''s excluded items make {excludedItems.Length} ids; the limit is {Limits.MaxExclude}.");
        if (boosts.Length > Limits.MaxBoosts)
            errors.Add("scenario", $"boost with scenario '{name}''s boosts makes {boosts.Length} tags; the limit is {Limits.MaxBoosts}.");
        if (caps.Length > Limits.MaxCaps)
            errors.Add("scenario", $"cap and capEach with scenario '{name}''s caps make {caps.Length}; the limit is {Limits.MaxCaps}.");
        if (request.Offset + k > Limits.MaxK)
            errors.Add("scenario", $"Scenario '{name}' lists {k} items; with offset {request.Offset} that goes {request.Offset + k} deep, and a list goes "
                + $"{Limits.MaxK} deep: offset may be at most {Limits.MaxK - k}.");
        if (request.Offset > 0 && diversity > 0)
            errors.Add("scenario", $"Scenario '{name}' picks its lists for diversity ({diversity.ToString(System.Globalization.CultureInfo.InvariantCulture)}), "
                + "so they have no later pages: ask for the whole list at once, or give diversity=0 to page it.");
        if (errors.Any) return null;
        return request with
        {
            K = k,
            IncludeSeen = includeSeen,
            Tag = tag,
            Tags = tags,
            ExcludeTags = excluded.Length == 0 ? null : excluded,
            Exclude = excludedItems.Length == 0 ? null : excludedItems,
            Diversity = diversity,
            Boosts = boosts.Length == 0 ? null : boosts,
            Caps = caps.Length == 0 ? null : caps,
            Pins = pins.Length == 0 ? null : pins,
            Slots = slots.Length == 0 ? null : slots,
            Fresh = request.Fresh ?? scenario.Fresh,
            MaxAge = request.MaxAge ?? scenario.MaxAge,
            Scenario = name,
        };
    }
}
