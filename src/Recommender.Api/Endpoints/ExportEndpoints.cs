using System.Text;
using Recommender.Abstractions;
using Recommender.Api.Security;
using Recommender.Model.Data;

namespace Recommender.Api.Endpoints;

/// <summary>GET /events/export: every retained event of every user with a stored history, streamed in the trainer's event-export CSV format.</summary>
public static class ExportEndpoints
{
    private const int UsersInFlight = 32;

    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/events/export", Export)
            .WithName("ExportEvents")
            .WithSummary($"Streams the cluster's event history as CSV ({EventExportFormat.Header}), user by user in timestamp order; "
                + "read by `recommender train --format event-export`.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .RequireAuthorization(ApiKeyAuthenticationHandler.AdminPolicy);

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
}
