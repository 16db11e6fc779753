using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

/// <summary>Recommendations for a history the client sends instead of one the cluster stores: an anonymous visitor's session.</summary>
public static class SessionEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/recommendations", Recommend)
            .WithName("GetSessionRecommendations")
            .WithSummary("Top-k items for the history in the body (the items an anonymous visitor's session has had, oldest first), ranked as a user "
                + "with that history would be, under the same query parameters as GET /users/{id}/recommendations; the session's own items are left "
                + "out unless includeSeen=true, and without an item the model knows the answer is the popularity list. Every item must be in the "
                + "catalogue. With a visitorId, a candidate version serves the session when it would serve a user of that id. Stores nothing.")
            .Accepts<SessionRequest>("application/json")
            .Produces<SessionRecommendationsResponse>()
            .ProducesBodyProblems()
            .WithMetadata(new WritesNothing());
    }

    // The lists are named query parameters: a POST would otherwise look for an array in the body.
    private static async Task<IResult> Recommend(string? k, string? offset, string? includeSeen, string? exclude, [FromQuery] string[]? excludeId, [FromQuery] string[]? tag,
        [FromQuery] string[]? excludeTag, string? explain, string? diversity, [FromQuery] string[]? boost, [FromQuery] string[]? cap, [FromQuery] string[]? capEach, [FromQuery] string[]? pin, [FromQuery] string[]? slot,
        string? fresh, string? maxAge, string? scenario, HttpRequest http, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options, KnownItems knownItems, ScenarioCache scenarios,
        PinAvailability pinAvailability, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(http, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var (items, visitor, acceptUnknown) = SessionBody.Parse(document!.RootElement, errors);
        var request = Fields.Recommendation(k, offset, includeSeen, exclude, excludeId, tag, excludeTag, explain, diversity, boost, cap, capEach, pin, slot, fresh, maxAge, errors);
        request = await scenarios.ApplyAsync(scenario, request, new ScenarioRules.Given(tag is { Length: > 0 }, diversity is not null, k is not null, includeSeen is not null), errors, options.CallAttemptTimeout, cancellation);
        if (errors.Any) return Problems.Invalid(errors);

        // As for events: an id outside the catalogue is a client's mistake to name, not an item to pass over; unless the
        // client says its sessions may hold items since deleted. Those stay in the history, as a stored user's history
        // keeps a deleted item (the model reads those it was trained on and passes over the rest), and are named.
        var clock = Stopwatch.StartNew();
        var unknown = await knownItems.FindUnknownAsync(grains, items.Distinct(StringComparer.Ordinal).ToArray(), options.CallAttemptTimeout, cancellation);
        string[]? notInCatalogue = null;
        if (unknown.Count > 0 && acceptUnknown) notInCatalogue = [.. items.Where(unknown.Contains).Distinct(StringComparer.Ordinal)];
        else if (unknown.Count > 0)
        {
            for (var i = 0; i < items.Length; i++)
                if (unknown.Contains(items[i])) errors.Add($"items[{i}]", $"Item '{items[i]}' is not in the catalogue.");
            return Problems.Invalid(errors);
        }

        var session = grains.GetGrain<ISessionGrain>(WorkerKeys.Of(items));
        var history = new Immutable<string[]>(items);
        var ranking = await ClusterRetry.RepeatAsync(attempt => session.RecommendFor(history, visitor, request!, attempt), options.CallAttemptTimeout, cancellation);
        if (ranking.ModelVersion.Length == 0) return Problems.Unavailable("No model is active yet: the catalogue is still loading.");
        metrics.Recommended(ranking, clock.Elapsed, RecommendationSubject.Session);
        metrics.Placements(ranking, ListKind.Session, request!.Scenario);
        return Results.Ok(new SessionRecommendationsResponse(ranking.ModelVersion, ranking.Source.ToString().ToLowerInvariant(), ranking.Cached,
            ranking.Items.Select(RecommendedItem.From).ToArray(), await pinAvailability.DescribeAsync(ranking.UnplacedPins, cancellation),
            UnfilledSlotResponse.From(ranking.UnfilledSlots), notInCatalogue));
    }
}

/// <summary>Endpoint metadata: the operation stores nothing, so a failure never leaves it "may have been written", whatever its method.</summary>
public sealed class WritesNothing;
