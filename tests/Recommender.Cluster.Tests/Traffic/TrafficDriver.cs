using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>
/// Sends a plan through the HTTP API with concurrent workers, each taking the next operation in plan order, and
/// records every answer in a <see cref="TrafficLedger"/>. Failures are recorded, never thrown, so that one run
/// reports everything that went wrong.
/// </summary>
public static class TrafficDriver
{
    public static async Task RunAsync(HttpClient http, TrafficPlan plan, TrafficLedger ledger, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < plan.Operations.Count)
            {
                switch (plan.Operations[i])
                {
                    case EventPost post: ledger.Record(await SendAsync(http, post, ledger)); break;
                    case RecommendationRead read: ledger.Record(await ReadAsync(http, read, ledger)); break;
                }
            }
        })));
    }

    public static object Body(TrafficEvent e) =>
        new { userId = e.UserId, itemId = e.ItemId, type = e.Type, timestamp = e.Timestamp, eventId = e.EventId, value = e.Value };

    private static async Task<PostOutcome> SendAsync(HttpClient http, EventPost post, TrafficLedger ledger)
    {
        object body = post.AsObject ? Body(post.Events[0]) : post.Events.Select(Body).ToArray();
        var sent = ledger.Tick();
        try
        {
            using var response = await http.PostAsJsonAsync("/events", body);
            var answered = ledger.Tick();
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new PostOutcome(post, sent, answered, status, await response.Content.ReadFromJsonAsync<IngestReply>(), null)
                : new PostOutcome(post, sent, answered, status, null, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return new PostOutcome(post, sent, ledger.Tick(), 0, null, ex.Message);
        }
    }

    private static async Task<ReadOutcome> ReadAsync(HttpClient http, RecommendationRead read, TrafficLedger ledger)
    {
        var sent = ledger.Tick();
        try
        {
            using var response = await http.GetAsync($"/users/{Uri.EscapeDataString(read.UserId)}/recommendations?k={read.K}");
            var answered = ledger.Tick();
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new ReadOutcome(read, sent, answered, status, await response.Content.ReadFromJsonAsync<RecommendationsReply>(), null)
                : new ReadOutcome(read, sent, answered, status, null, await response.Content.ReadAsStringAsync());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return new ReadOutcome(read, sent, ledger.Tick(), 0, null, ex.Message);
        }
    }
}
