using Microsoft.AspNetCore.Mvc;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

public static class EventEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/events", Ingest)
            .WithName("PostEvents")
            .WithSummary("Records one event or a batch; the whole batch is validated before anything is written, and stored whole before any user's history is. "
                + "An event naming an item not in the catalogue is refused unless unknownItems=accept (a client whose buffered events may name items deleted since).")
            .Accepts<EventRequest[]>("application/json")
            .Produces<IngestResponse>()
            .Produces<IngestResponse>(StatusCodes.Status202Accepted)
            .ProducesBodyProblems();
        app.MapPost("/events/delete", Remove)
            .WithName("DeleteEvents")
            .WithSummary("Takes back events of several users at once (a day's refunds, a support queue): a JSON array of 1 to 1,000 objects, each a userId and "
                + "either an itemId (every event of the item, or of one type with type) or an eventId, as DELETE /users/{id}/items/{itemId} and "
                + "/users/{id}/events/{eventId} take back one; the whole batch is checked before anything is taken back. Each user's take-backs run in the order "
                + "sent; the answer gives each one's count of events removed, in the order sent (0 for a repeat). Sending the batch again after a failure is safe.")
            .Accepts<EventRemovalRequest[]>("application/json")
            .Produces<RemovedEventsBatchResponse>()
            .ProducesBodyProblems();
    }

    /// <summary>Users whose take-backs run at once: each is a storage write of the user's history.</summary>
    private const int UsersAtOnce = 16;

    private static async Task<IResult> Remove(HttpRequest request, IGrainFactory grains, ApiMetrics metrics, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var removals = EventRemovalBatch.Parse(document!.RootElement, errors);
        if (errors.Any) return Problems.Invalid(errors);
        var removed = new int[removals.Count];
        // One user's take-backs one after the other, in the order sent (two of one user may name the same events: the
        // first sent counts them); users side by side.
        var byUser = Enumerable.Range(0, removals.Count).GroupBy(i => removals[i].UserId, StringComparer.Ordinal).ToArray();
        await Parallel.ForEachAsync(byUser, new ParallelOptions { MaxDegreeOfParallelism = UsersAtOnce, CancellationToken = cancellation }, async (user, _) =>
        {
            foreach (var i in user) removed[i] = await UserEndpoints.Remove(user.Key, removals[i].Removal, grains);
        });
        metrics.EventsRemoved(removed.Sum(), "batch");
        return Results.Ok(new RemovedEventsBatchResponse(removals.Count, removed.Sum(), [.. removals.Select((r, i) => RemovedEventsResponse.Of(r.UserId, removed[i], r.Removal))]));
    }

    // The header parameter is declared for the OpenAPI document; its value is read from the request, where a header
    // sent twice is still two values.
    private static async Task<IResult> Ingest(string? unknownItems, HttpRequest request, IGrainFactory grains, ApiMetrics metrics, TimeProvider clock, FrontEndOptions options,
        KnownItems knownItems, [FromHeader(Name = IdempotencyKey.HeaderName)] string? idempotencyKey, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var requestKey = IdempotencyKey.Parse(request.Headers[IdempotencyKey.HeaderName], errors);
        var events = EventBatch.Parse(document!.RootElement, clock.GetUtcNow(), errors, requestKey);
        var acceptUnknown = Fields.UnknownItems(unknownItems, errors);
        if (errors.Any) return Problems.Invalid(errors);

        // Every item must be in the catalogue, unless the client accepts those that are not (a buffered event of an item
        // deleted since): checked for the whole batch before any user grain is called.
        var items = events.Select(e => e.Event.ItemId).Distinct(StringComparer.Ordinal).ToArray();
        var unknown = await ClusterRetry.BeforeWritingAsync(() => knownItems.FindUnknownAsync(grains, items, options.CallAttemptTimeout, cancellation));
        string[]? notInCatalogue = unknown.Count > 0 && acceptUnknown ? [.. items.Where(unknown.Contains)] : null;
        if (unknown.Count > 0 && !acceptUnknown)
        {
            var single = document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
            for (var i = 0; i < events.Count; i++)
                if (unknown.Contains(events[i].Event.ItemId))
                    errors.Add(ValidationErrors.Field(single ? null : i, "itemId"), $"Item '{events[i].Event.ItemId}' is not in the catalogue.");
            return Problems.Invalid(errors);
        }

        var perUser = events.GroupBy(e => e.UserId, StringComparer.Ordinal)
            .Select(g => new UserEvents(g.Key, g.Select(e => e.Event).ToArray())).ToArray();
        if (perUser.Length == 1)
        {
            // One user's events are one write of one grain: all or nothing without the journal, and safe to send again.
            var user = grains.User(perUser[0].UserId);
            var result = await ClusterRetry.RepeatAsync(attempt => user.Ingest(new Immutable<UserEvent[]>(perUser[0].Events), attempt),
                options.CallAttemptTimeout, cancellation);
            metrics.EventsIngested(result.Accepted, result.Duplicates);
            return Results.Ok(new IngestResponse(result.Accepted, result.Duplicates, 1, 0, notInCatalogue));
        }

        // Several users: the journal stores the batch whole first, so a failure either leaves nothing written (503) or
        // leaves the users it could not write yet to its retries (202). An attempt not answered in time goes to another
        // partition; should both store the batch, the users' grains count the second copy's events as repeats.
        var batchEvents = new Immutable<UserEvents[]>(perUser);
        var batch = await ClusterRetry.RepeatAsync(() => grains.GetGrain<IEventJournalGrain>(Random.Shared.Next(Partitions.EventJournal)).Ingest(batchEvents),
            options.CallAttemptTimeout, cancellation);
        metrics.EventsIngested(batch.Accepted, batch.Duplicates);
        var response = new IngestResponse(batch.Accepted, batch.Duplicates, perUser.Length, batch.PendingUsers, notInCatalogue);
        return batch.PendingUsers == 0 ? Results.Ok(response) : Results.Json(response, statusCode: StatusCodes.Status202Accepted);
    }
}
