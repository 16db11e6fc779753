using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Api.Endpoints;

public static class EventEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapPost("/events", Ingest)
            .WithName("PostEvents")
            .WithSummary("Records one event or a batch; the whole batch is validated before anything is written.")
            .Accepts<EventRequest[]>("application/json")
            .Produces<IngestResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
    }

    private static async Task<IResult> Ingest(HttpRequest request, IGrainFactory grains, ApiMetrics metrics, TimeProvider clock, CancellationToken cancellation)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellation);
        if (problem is not null) return problem;
        using var _ = document;
        var errors = new ValidationErrors();
        var events = EventBatch.Parse(document!.RootElement, clock.GetUtcNow(), errors);
        if (errors.Any) return Problems.Invalid(errors);

        // Every item must be in the catalogue: checked for the whole batch before any user grain is called.
        var items = events.Select(e => e.Event.ItemId).Distinct(StringComparer.Ordinal).ToArray();
        var unknown = await UnknownItems(grains, items);
        if (unknown.Count > 0)
        {
            var single = document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
            for (var i = 0; i < events.Count; i++)
                if (unknown.Contains(events[i].Event.ItemId))
                    errors.Add(ValidationErrors.Field(single ? null : i, "itemId"), $"Item '{events[i].Event.ItemId}' is not in the catalogue.");
            return Problems.Invalid(errors);
        }

        var perUser = events.GroupBy(e => e.UserId, StringComparer.Ordinal).ToArray();
        var results = await Task.WhenAll(perUser.Select(g =>
            ClusterRetry.RunAsync(() => grains.User(g.Key).Ingest(new Immutable<UserEvent[]>(g.Select(e => e.Event).ToArray())))));
        var accepted = results.Sum(r => r.Accepted);
        var duplicates = results.Sum(r => r.Duplicates);
        metrics.EventsIngested(accepted, duplicates);
        return Results.Ok(new IngestResponse(accepted, duplicates, perUser.Length));
    }

    /// <summary>
    /// Items in neither the bulk-loaded buckets (always active, so asking them activates no item grain) nor, for
    /// the rest, the item grains (items created through the API).
    /// </summary>
    private static async Task<HashSet<string>> UnknownItems(IGrainFactory grains, string[] items)
    {
        var byBucket = items.GroupBy(ItemBuckets.Of).ToArray();
        var inBuckets = await Task.WhenAll(byBucket.Select(g => ClusterRetry.RunAsync(() => grains.GetGrain<IItemBucketGrain>(g.Key).Contains(new Immutable<string[]>(g.ToArray())))));
        var rest = byBucket.SelectMany((g, b) => g.Where((_, i) => !inBuckets[b][i])).ToArray();
        var known = await Task.WhenAll(rest.Select(id => ClusterRetry.RunAsync(() => grains.Item(id).Exists())));
        return rest.Where((_, i) => !known[i]).ToHashSet(StringComparer.Ordinal);
    }
}
