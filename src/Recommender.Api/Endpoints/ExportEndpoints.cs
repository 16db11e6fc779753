using System.Text;
using Recommender.Abstractions;
using Recommender.Api.Security;
using Recommender.Model.Data;

namespace Recommender.Api.Endpoints;

/// <summary>
/// GET /events/export: every retained event of every user with a stored history, streamed in the trainer's event-export
/// CSV format. GET /catalogue/export: every item, streamed as JSON lines that POST /items (and import-items) take back.
/// </summary>
public static class ExportEndpoints
{
    private const int UsersInFlight = 32;
    private const int ItemsInFlight = 64;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/events/export", Export)
            .WithName("ExportEvents")
            .WithSummary($"Streams the cluster's event history as CSV ({EventExportFormat.Header}), user by user in timestamp order; "
                + "read by `recommender train --format event-export`.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
        // Not under /items/, where it would hide an item of the id "export".
        app.MapGet("/catalogue/export", ExportCatalogue)
            .WithName("ExportCatalogue")
            .WithSummary("Streams every item of the catalogue as JSON lines, each an item object as POST /items takes it (id, title, text, tags, "
                + "hidden, availableFrom, expiresAt, and the embedding when one was given): what `recommender import-items` loads and "
                + "`recommender encode-text --items` encodes.")
            .Produces<string>(StatusCodes.Status200OK, "application/x-ndjson")
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);
    }

    /// <summary>How long an export waits for a user's history across a silo failure (membership declares a dead silo within about a minute).</summary>
    private static readonly TimeSpan FailoverPatience = TimeSpan.FromSeconds(90);

    private static async Task Export(HttpContext context, IGrainFactory grains, CancellationToken cancellation)
    {
        // Users whose history was stored without a directory entry (e.g. before the directory existed) are listed first.
        await grains.GetGrain<IUserDirectoryBackfillGrain>(0).Backfill();
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=events.csv";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 1 << 16);
        await writer.WriteLineAsync(EventExportFormat.Header);
        for (var partition = 0; partition < Partitions.UserDirectory; partition++)
        {
            var directory = grains.GetGrain<IUserDirectoryGrain>(partition);
            var users = (await ClusterRetry.ReadPatientlyAsync(() => directory.List(), FailoverPatience, cancellation)).Value;
            foreach (var chunk in users.Chunk(UsersInFlight))
            {
                // The response is already streaming: a silo lost meanwhile is waited out, not reported half-way.
                var histories = await Task.WhenAll(chunk.Select(u => ClusterRetry.ReadPatientlyAsync(() => grains.User(u).GetHistory(null), FailoverPatience, cancellation)));
                for (var i = 0; i < chunk.Length; i++)
                    foreach (var e in histories[i].Events)
                        await writer.WriteLineAsync(EventExportFormat.FormatRow(chunk[i], e.ItemId, EventTypes.Name(e.Type), e.Timestamp, e.EventId, e.Value));
                cancellation.ThrowIfCancellationRequested();
            }
        }
    }

    private static async Task ExportCatalogue(HttpContext context, IGrainFactory grains, CancellationToken cancellation)
    {
        var ids = (await ClusterRetry.ReadPatientlyAsync(() => grains.GetGrain<IItemListingGrain>(0).ListIds(), FailoverPatience, cancellation)).Value;
        context.Response.ContentType = "application/x-ndjson; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=items.jsonl";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), 1 << 16);
        foreach (var chunk in ids.Order(StringComparer.Ordinal).Chunk(ItemsInFlight))
        {
            var items = await Task.WhenAll(chunk.Select(id => ClusterRetry.ReadPatientlyAsync(() => grains.Item(id).GetDetails(), FailoverPatience, cancellation)));
            foreach (var item in items)
                if (item is not null) await writer.WriteLineAsync(System.Text.Json.JsonSerializer.Serialize(CatalogueLine.Of(item), CatalogueLine.Json));
            cancellation.ThrowIfCancellationRequested();
        }
    }
}

/// <summary>An item as a line of the catalogue export: the fields of POST /items, those without a value left out.</summary>
public sealed record CatalogueLine(string Id, string Title, string? Text, IReadOnlyList<string>? Tags, bool? Hidden,
    DateTimeOffset? AvailableFrom, DateTimeOffset? ExpiresAt, float[]? Embedding)
{
    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public static CatalogueLine Of(ItemDetails item) => new(item.Id, item.Title, item.Text, item.Tags.Count > 0 ? item.Tags : null,
        item.Hidden ? true : null, item.AvailableFrom, item.ExpiresAt, item.Embedding is { } bytes ? VectorBytes.ToFloats(bytes) : null);
}
