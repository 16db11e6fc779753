using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>The newest items, by the time each became available: a news site's "latest", a shop's "just in".</summary>
public static class LatestEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/latest", Latest)
            .WithName("GetLatestItems")
            .WithSummary("The k newest items the active model serves, newest first, by the availableFrom each was written with (an item without one "
                + "is not listed; one whose time has not come, or that is hidden or expired, neither); ties by id. The same filters as the other "
                + "lists: exclude=id1,id2 and excludeId=..., tag=... (repeatable: any of them), excludeTag=..., maxAge=2d (only the last two days); "
                + "cap=TAG:COUNT and capEach=PREFIX:COUNT (at most COUNT items of a tag, or of each tag under a prefix: no source fills the list); "
                + "pin=ITEM:POSITION (an editor's pick at the top of the feed; a pinned item without an availableFrom is placed too, its time null) and "
                + "slot=TAG:POSITION (the newest item of the tag not shown above the place), as in the other lists; "
                + "offset=n returns the k items after the first n; scenario=NAME applies a scenario's tag filters, excluded tags and items, caps, pins, "
                + "slots, k and maxAge (its boosts, freshness and diversity rank by relevance, which an order by time does not have). The same for every caller.")
            .Produces<LatestItemsResponse>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> Latest(string? k, string? offset, string? exclude, [FromQuery] string[]? excludeId, [FromQuery] string[]? tag,
        [FromQuery] string[]? excludeTag, string? maxAge, [FromQuery] string[]? cap, [FromQuery] string[]? capEach, [FromQuery] string[]? pin,
        [FromQuery] string[]? slot, string? scenario, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options, ScenarioCache scenarios,
        PinAvailability pinAvailability, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var count = Fields.K(k, errors);
        var skip = Fields.Offset(offset, count, 0, errors);
        var excluded = Fields.Exclusions(exclude, excludeId, errors);
        var tags = Fields.TagFilters(tag, excludeTag, errors);
        var age = Fields.MaxAge(maxAge, errors);
        var caps = Fields.Caps(cap, capEach, errors);
        var pins = Fields.Pins(pin, errors);
        var slots = Fields.Slots(slot, errors);
        var asked = errors.Any ? null : new RecommendationRequest(count!.Value, Exclude: excluded, Tag: tags.Tag, Offset: skip, Tags: tags.Tags,
            ExcludeTags: tags.ExcludeTags, Caps: caps, Pins: pins, Slots: slots, MaxAge: age);
        // An order by time has no diversity to take from a scenario, nor seen items to leave out.
        var list = await scenarios.ApplyAsync(scenario, asked, new ScenarioRules.Given(tag is { Length: > 0 }, Diversity: true, k is not null, IncludeSeen: true), errors,
            options.CallAttemptTimeout, cancellation);
        if (errors.Any) return Problems.Invalid(errors);
        var filter = new ScanFilter(list!.K, list.Exclude ?? [], list.Tag, Offset: list.Offset, Tags: list.Tags, ExcludeTags: list.ExcludeTags, Caps: list.Caps,
            MaxAge: list.MaxAge, Pins: list.Pins, Slots: list.Slots);
        var clock = Stopwatch.StartNew();
        var latest = await ClusterRetry.RepeatAsync(() => grains.GetGrain<ISearchGrain>(WorkerKeys.Any()).Latest(filter), options.CallAttemptTimeout, cancellation);
        if (latest is null) return Problems.Unavailable("No model is active yet: the catalogue is still loading.");
        metrics.Recommended(clock.Elapsed, RecommendationSubject.Latest);
        metrics.Placements(latest.Items.Count(i => i.Pinned), latest.UnplacedPins, latest.Items.Count(i => i.Slot is not null), latest.UnfilledSlots,
            ListKind.Latest, list.Scenario);
        return Results.Ok(new LatestItemsResponse(latest.ModelVersion, [.. latest.Items.Select(LatestItemResponse.From)],
            await pinAvailability.DescribeAsync(latest.UnplacedPins, cancellation), UnfilledSlotResponse.From(latest.UnfilledSlots)));
    }
}

/// <summary>GET /latest: the newest items of the model version that served them.</summary>
public sealed record LatestItemsResponse(string ModelVersion, IReadOnlyList<LatestItemResponse> Items,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnplacedPinsText.Description)] IReadOnlyList<UnplacedPinResponse>? UnplacedPins = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description(UnfilledSlotsText.Description)] IReadOnlyList<UnfilledSlotResponse>? UnfilledSlots = null);

/// <summary>A newest item, with the time it became available.</summary>
public sealed record LatestItemResponse(
    string Id,
    string Title,
    [property: Description("When the item became available (its availableFrom). Null only for a pinned item written without one.")]
    DateTimeOffset? AvailableFrom,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull),
        Description("true when a pin (pin=ITEM:POSITION, or the scenario's) put the item at its place; absent otherwise.")]
    bool? Pinned = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull),
        Description("The tag of the slot (slot=TAG:POSITION, or the scenario's) that put the item at its place; absent otherwise.")]
    string? Slot = null)
{
    public static LatestItemResponse From(LatestItem item) => new(item.ItemId, item.Title,
        item.AvailableFrom == DateTimeOffset.MinValue ? null : item.AvailableFrom, item.Pinned ? true : null, item.Slot);
}
