using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>The popular list on its own: what a visitor without history is shown, for a home page or a shop's section.</summary>
public static class PopularEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/popular", Popular)
            .WithName("GetPopularItems")
            .WithSummary("The k most popular items now, the list a user without history gets: items with enough recent events (decayed counts) "
                + "first, then the all-time counts; only items the active model can serve and none hidden; minus exclude=id1,id2 and any "
                + "excludeId=..., only items tagged tag=... when given (repeatable: any of them), none tagged excludeTag=...; offset=n returns the k items after the first n; "
                + "diversity (0 to 1) picks the k from the most popular 4·k, each unlike those picked before it (by the active model's item vectors); "
                + "boost=TAG:FACTOR (repeatable) multiplies the counts of items carrying the tag by the factor; cap=TAG:COUNT (repeatable) lets at most COUNT of them into the list. The same for every caller.")
            .Produces<PopularItemsResponse>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> Popular(string? k, string? offset, string? exclude, [FromQuery] string[]? excludeId, [FromQuery] string[]? tag, [FromQuery] string[]? excludeTag,
        string? diversity, [FromQuery] string[]? boost, [FromQuery] string[]? cap, [FromQuery] string[]? capEach, [FromQuery] string[]? pin, [FromQuery] string[]? slot, string? fresh, string? maxAge, string? scenario, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options,
        ScenarioCache scenarios, PinAvailability pinAvailability, CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var count = Fields.K(k, errors);
        var lambda = Fields.Diversity(diversity, errors);
        var skip = Fields.Offset(offset, count, lambda, errors);
        var excluded = Fields.Exclusions(exclude, excludeId, errors);
        var tags = Fields.TagFilters(tag, excludeTag, errors);
        var boosts = Fields.Boosts(boost, errors);
        var caps = Fields.Caps(cap, capEach, errors);
        var pins = Fields.Pins(pin, errors);
        var slots = Fields.Slots(slot, errors);
        var freshness = Fields.Fresh(fresh, errors);
        var age = Fields.MaxAge(maxAge, errors);
        var request = errors.Any ? null : new RecommendationRequest(count!.Value, Exclude: excluded, Tag: tags.Tag, Diversity: lambda, Offset: skip, Tags: tags.Tags,
            ExcludeTags: tags.ExcludeTags, Boosts: boosts, Caps: caps, Pins: pins, Slots: slots, Fresh: freshness, MaxAge: age);
        // A list without a history to leave out has no use for a scenario's includeSeen.
        request = await scenarios.ApplyAsync(scenario, request, new ScenarioRules.Given(tag is { Length: > 0 }, diversity is not null, k is not null, IncludeSeen: true), errors, options.CallAttemptTimeout, cancellation);
        if (errors.Any) return Problems.Invalid(errors);

        // A session with no items ranks as a user without history: the popular list, filtered the same way.
        var clock = Stopwatch.StartNew();
        var session = grains.GetGrain<ISessionGrain>(WorkerKeys.Any());
        var ranking = await ClusterRetry.RepeatAsync(attempt => session.Recommend(new Immutable<string[]>([]), request!, attempt), options.CallAttemptTimeout, cancellation);
        if (ranking.ModelVersion.Length == 0) return Problems.Unavailable("No model is active yet: the catalogue is still loading.");
        metrics.Recommended(ranking, clock.Elapsed, RecommendationSubject.Popular);
        metrics.Placements(ranking, ListKind.Popular, request!.Scenario);
        return Results.Ok(new PopularItemsResponse(ranking.ModelVersion, ranking.Items.Select(RecommendedItem.From).ToArray(),
            await pinAvailability.DescribeAsync(ranking.UnplacedPins, cancellation), UnfilledSlotResponse.From(ranking.UnfilledSlots)));
    }
}
