using System.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Scenarios;
using Recommender.Api.Security;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

public static class UserEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/users/{id}/recommendations", Recommend)
            .WithName("GetRecommendations")
            .WithSummary("The user's top-k items (softmax scores) under the active model, excluding items already in the history unless includeSeen=true, "
                + "minus exclude=id1,id2 and any excludeId=... (repeatable, one exact id each, for ids that contain a comma), "
                + "only items tagged tag=... when given (repeatable: any of them), none tagged excludeTag=... (repeatable); a live popularity list without history. "
                + "explain=true adds to each model-ranked item 'because': the (up to 2) recent history items whose vectors are closest to it; "
                + "diversity=0..1 trades relevance for items unlike each other; offset=n returns the k items after the first n (the next page); "
                + "boost=TAG:FACTOR (repeatable) multiplies the weight of items carrying the tag by the factor before the list is cut; cap=TAG:COUNT (repeatable) lets at most COUNT of them into the list, "
                + "capEach=PREFIX:COUNT (repeatable) at most COUNT of each tag starting with PREFIX; pin=ITEM:POSITION (repeatable) sets the item at that place of the list; slot=TAG:POSITION (repeatable) gives that place to the best item of the tag not listed above it; scenario=NAME applies the rules stored under that name (PUT /scenarios/{name}).")
            .Produces<RecommendationsResponse>()
            .ProducesValidationProblem();
        app.MapPost("/users/recommendations", RecommendMany)
            .WithName("GetManyUsersRecommendations")
            .WithSummary("The lists of several users at once (a newsletter, a push campaign, a nightly export): for each user in the body, in its order, "
                + "what GET /users/{id}/recommendations answers under the same query parameters. At most 1,000 users, each once, and at most 100,000 items "
                + "in all (users × (offset + k)). Reads only; a user whose list cannot be read makes the whole request a 503 to send again.")
            .Accepts<UsersRequest>("application/json")
            .Produces<UsersRecommendationsResponse>()
            .ProducesBodyProblems()
            .WithMetadata(new WritesNothing());
        app.MapGet("/users/{id}/history", History)
            .WithName("GetHistory")
            .WithSummary("The user's retained events in timestamp order, with the total count.")
            .Produces<HistoryResponse>()
            .ProducesValidationProblem();
        app.MapDelete("/users/{id}", Erase)
            .WithName("EraseUser")
            .WithSummary("Deletes the user's stored history and directory entry: nothing of it is exported or recommended from afterwards, "
                + "the popular lists count its events no more, and the user gets the popularity list until new events arrive. Idempotent: a repeat erases 0 events.")
            .Produces<ErasedUserResponse>()
            .ProducesValidationProblem()
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        app.MapDelete("/users/{id}/items/{itemId}", RemoveItem)
            .WithName("RemoveUserItem")
            .WithSummary("Takes back every event of the item in the user's history (of type=TYPE only, when given): \"I did not watch this\", a purchase "
                + "refunded, a view by someone else on the account. The events leave the stored history and the event export, the model no longer reads them, "
                + "the item is no longer excluded as seen, the popular lists count them no more, and the same events sent again are repeats, not stored again. "
                + "Idempotent: a repeat removes 0 events.")
            .Produces<RemovedEventsResponse>()
            .ProducesValidationProblem();
        app.MapDelete("/users/{id}/events/{eventId}", RemoveEvent)
            .WithName("RemoveUserEvent")
            .WithSummary("Takes back one event of the user's history by its eventId (as GET /users/{id}/history lists it), as DELETE /users/{id}/items/{itemId} "
                + "takes back an item's. Idempotent: a repeat, or an id the history does not hold, removes 0 events.")
            .Produces<RemovedEventsResponse>()
            .ProducesValidationProblem();
    }

    private static async Task<IResult> RemoveItem(string id, string itemId, string? type, HttpRequest request, IGrainFactory grains, ApiMetrics metrics)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        var item = Fields.PathId(request, itemId, 3, "itemId", errors);
        var eventType = type is null ? null : Fields.EventTypeNamed(type, "type", errors);
        if (errors.Any) return Problems.Invalid(errors);
        var removal = new EventRemoval(ItemId: item, Type: eventType);
        var removed = await Remove(userId!, removal, grains);
        metrics.EventsRemoved(removed, "item");
        return Results.Ok(RemovedEventsResponse.Of(userId!, removed, removal));
    }

    private static async Task<IResult> RemoveEvent(string id, string eventId, HttpRequest request, IGrainFactory grains, ApiMetrics metrics)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        var eventKey = Fields.PathId(request, eventId, 3, "eventId", errors);
        if (errors.Any) return Problems.Invalid(errors);
        var removal = new EventRemoval(EventId: eventKey);
        var removed = await Remove(userId!, removal, grains);
        metrics.EventsRemoved(removed, "event");
        return Results.Ok(RemovedEventsResponse.Of(userId!, removed, removal));
    }

    /// <summary>
    /// Takes the events back in the user's grain. Sent again only when the cluster refused it: a repeat of an attempt
    /// that ran would count 0. A client repeating a removal it got no answer to finishes what the first attempt left.
    /// </summary>
    public static Task<int> Remove(string userId, EventRemoval removal, IGrainFactory grains) =>
        ClusterRetry.RunAsync(() => grains.User(userId).RemoveEvents(removal));

    private static async Task<IResult> Recommend(string id, string? k, string? offset, string? includeSeen, string? exclude, string[]? excludeId, string[]? tag, string[]? excludeTag, string? explain,
        string? diversity, string[]? boost, string[]? cap, string[]? capEach, string[]? pin, string[]? slot, string? fresh, string? maxAge, string? scenario,
        HttpRequest http, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options, ScenarioCache scenarios, PinAvailability pinAvailability,
        CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(http, id, 1, "id", errors);
        var request = Fields.Recommendation(k, offset, includeSeen, exclude, excludeId, tag, excludeTag, explain, diversity, boost, cap, capEach, pin, slot, fresh, maxAge, errors);
        request = await scenarios.ApplyAsync(scenario, request, new ScenarioRules.Given(tag is { Length: > 0 }, diversity is not null, k is not null, includeSeen is not null), errors, options.CallAttemptTimeout, cancellation);
        if (errors.Any) return Problems.Invalid(errors);
        return await ReadList(userId!, request!, grains, metrics, options, pinAvailability, cancellation) is { } list ? Results.Ok(list) : NoModelYet();
    }

    /// <summary>A user's list (null while no model is active yet), counted in the recommendation metrics.</summary>
    private static async Task<RecommendationsResponse?> ReadList(string userId, RecommendationRequest request, IGrainFactory grains, ApiMetrics metrics,
        FrontEndOptions options, PinAvailability pinAvailability, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var user = grains.User(userId);
        var ranking = await ClusterRetry.RepeatAsync(attempt => user.Recommend(request, attempt), options.CallAttemptTimeout, cancellation);
        if (ranking.ModelVersion.Length == 0) return null;
        metrics.Recommended(ranking, clock.Elapsed);
        metrics.Placements(ranking, ListKind.User, request.Scenario);
        return new RecommendationsResponse(userId, ranking.ModelVersion, ranking.Source.ToString().ToLowerInvariant(), ranking.Cached,
            ranking.Items.Select(RecommendedItem.From).ToArray(), await pinAvailability.DescribeAsync(ranking.UnplacedPins, cancellation), UnfilledSlotResponse.From(ranking.UnfilledSlots));
    }

    private static IResult NoModelYet() => Problems.Unavailable("No model is active yet: the catalogue is still loading.");

    // The lists are named query parameters: a POST would otherwise look for an array in the body.
    private static async Task<IResult> RecommendMany(string? k, string? offset, string? includeSeen, string? exclude, [FromQuery] string[]? excludeId,
        [FromQuery] string[]? tag, [FromQuery] string[]? excludeTag, string? explain, string? diversity, [FromQuery] string[]? boost,
        [FromQuery] string[]? cap, [FromQuery] string[]? capEach, [FromQuery] string[]? pin, [FromQuery] string[]? slot, string? fresh, string? maxAge, string? scenario, HttpRequest http, IGrainFactory grains, ApiMetrics metrics, FrontEndOptions options,
        ScenarioCache scenarios, PinAvailability pinAvailability, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(http, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var users = UsersBody.Parse(document!.RootElement, errors);
        var request = Fields.Recommendation(k, offset, includeSeen, exclude, excludeId, tag, excludeTag, explain, diversity, boost, cap, capEach, pin, slot, fresh, maxAge, errors);
        request = await scenarios.ApplyAsync(scenario, request, new ScenarioRules.Given(tag is { Length: > 0 }, diversity is not null, k is not null, includeSeen is not null), errors, options.CallAttemptTimeout, cancellation);
        if (request is not null && (long)users.Length * (request.Offset + request.K) > Limits.MaxItemsPerUsersRequest)
            errors.Add("k", $"{users.Length} users × {request.Offset + request.K} items (offset + k) is {(long)users.Length * (request.Offset + request.K):N0} items; "
                + $"the limit is {Limits.MaxItemsPerUsersRequest:N0} a request: send fewer users at a time, or a smaller k.");
        if (errors.Any) return Problems.Invalid(errors);

        // Each user's list as its own read asks for it (the same grain call, attempts and metrics), a few at a time.
        var lists = new RecommendationsResponse?[users.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, users.Length),
            new ParallelOptions { MaxDegreeOfParallelism = ConcurrentReads, CancellationToken = cancellation },
            async (i, token) => lists[i] = await ReadList(users[i], request!, grains, metrics, options, pinAvailability, token));
        return lists.Any(l => l is null) ? NoModelYet() : Results.Ok(new UsersRecommendationsResponse(lists!));
    }

    /// <summary>Reads one request keeps in flight: enough to keep a silo's cores busy, few enough to leave room for other requests.</summary>
    private const int ConcurrentReads = 16;

    private static async Task<IResult> Erase(string id, HttpRequest request, IGrainFactory grains, ApiMetrics metrics)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        if (errors.Any) return Problems.Invalid(errors);
        var erased = await ClusterRetry.RunAsync(() => grains.User(userId!).Erase());
        metrics.Erased(erased);
        return Results.Ok(new ErasedUserResponse(userId!, erased));
    }

    private static async Task<IResult> History(string id, string? limit, HttpRequest request, IGrainFactory grains, FrontEndOptions options,
        CancellationToken cancellation)
    {
        var errors = new ValidationErrors();
        var userId = Fields.PathId(request, id, 1, "id", errors);
        int? max = null;
        if (limit is not null)
        {
            if (int.TryParse(limit, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var l) && l > 0) max = l;
            else errors.Add("limit", $"limit must be an integer from 1 to {int.MaxValue}.");
        }
        if (errors.Any) return Problems.Invalid(errors);
        var user = grains.User(userId!);
        var history = await ClusterRetry.RepeatAsync(attempt => user.GetHistory(max, attempt), options.CallAttemptTimeout, cancellation);
        return Results.Ok(new HistoryResponse(userId!, history.TotalCount, history.HistoryVersion,
            history.Events.Select(e => new HistoryEvent(e.ItemId, EventTypes.Name(e.Type), e.Timestamp, e.EventId, e.Value)).ToArray()));
    }
}
