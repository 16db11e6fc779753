using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// The embedded SQLite file held by another process (a backup tool, a shell left in a transaction) past the busy
/// timeout: writes answer 503 with Retry-After and say nothing was written, which holds (nothing shows up later), reads
/// go on, and the same writes succeed once the file is released.
/// </summary>
public sealed class LockedStoreTests
{
    [Fact]
    public async Task Writes_to_a_locked_database_file_are_retryable_write_nothing_and_succeed_once_it_is_released()
    {
        var options = ClusterFixtureOptions.ForSmallCatalogue("locked-store");
        var dataDirectory = Path.Combine(options.TemporaryDirectory!, "data");
        var database = Path.Combine(dataDirectory, RecommenderOptions.DatabaseFile);
        await using var cluster = new Fixture(options with
        {
            Silos = 1,
            DataDirectory = dataDirectory,
            Settings = new Dictionary<string, string?>
            {
                // A short busy timeout keeps the test short; the default is 30 s.
                ["Recommender:Storage:ConnectionString"] = $"Data Source={database};Default Timeout=1",
                ["Recommender:EventJournalRetryInterval"] = "00:00:01",
            },
        });
        await cluster.StartAsync();
        var events = new[]
        {
            new { userId = "locked-out", itemId = "1", type = "view", eventId = "locked-1" },
            new { userId = "locked-out", itemId = "3", type = "view", eventId = "locked-2" },
        };

        await using (var holder = new SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await holder.OpenAsync();
            // BEGIN IMMEDIATE: the file's write lock, held until the rollback.
            using var transaction = holder.BeginTransaction(deferred: false);
            await using (var touch = holder.CreateCommand())
            {
                touch.CommandText = "CREATE TABLE HeldByAnotherProcess (Id INTEGER)";
                await touch.ExecuteNonQueryAsync();
            }

            using (var refused = await cluster.Http.PostAsJsonAsync("/events", events))
                await AssertNothingWrittenAsync(refused, "POST /events");
            using (var refused = await cluster.Http.PutAsJsonAsync("/items/locked-item", new { title = "Written while locked" }))
                await AssertNothingWrittenAsync(refused, "PUT /items/locked-item");

            // Readers of a WAL file do not wait for its writer.
            var recommendations = await cluster.GetJsonAsync<RecommendationsReply>("/users/1/recommendations?k=3");
            Assert.Equal(3, recommendations.Items.Count);

            transaction.Rollback();
        }

        // Refused means refused: the journal's retries (every second) had time to deliver anything it kept.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, (await cluster.GetJsonAsync<HistoryReply>("/users/locked-out/history")).TotalCount);
        using (var missing = await cluster.Http.GetAsync("/items/locked-item"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using (var accepted = await cluster.Http.PostAsJsonAsync("/events", events))
            Assert.True(accepted.StatusCode == HttpStatusCode.OK, $"POST /events answered {(int)accepted.StatusCode}: {await accepted.Content.ReadAsStringAsync()}");
        using (var stored = await cluster.Http.PutAsJsonAsync("/items/locked-item", new { title = "Written after the lock" }))
            Assert.True(stored.IsSuccessStatusCode, $"PUT answered {(int)stored.StatusCode}: {await stored.Content.ReadAsStringAsync()}");
        var history = await cluster.GetJsonAsync<HistoryReply>("/users/locked-out/history");
        Assert.Equal(["1", "3"], history.Events.Select(e => e.ItemId));
        Assert.Equal("Written after the lock", (await cluster.GetJsonAsync<ItemReply>("/items/locked-item")).Title);
    }

    private static async Task AssertNothingWrittenAsync(HttpResponseMessage response, string request)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{request} answered {(int)response.StatusCode}: {body}");
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal("The database file is locked by another process; nothing was written. Retry shortly.", problem.RootElement.GetProperty("detail").GetString());
        Assert.False(problem.RootElement.GetProperty("mayHaveBeenWritten").GetBoolean());
    }

    private sealed class Fixture(ClusterFixtureOptions options) : ClusterFixture(options), IAsyncDisposable
    {
        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }
}
