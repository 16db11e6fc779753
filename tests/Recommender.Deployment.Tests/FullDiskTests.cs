using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;

namespace Recommender.Deployment.Tests;

/// <summary>
/// The single node as users first run it (the API process with its embedded silo and SQLite file) on a disk that fills
/// up: writes answer 503 with Retry-After and say nothing was written, never a 500; every acknowledged event is in its
/// user's history once space is freed (those the journal held while the users' writes failed included), and a refused
/// batch sent again is stored.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private const int Items = 20;
    private const int EventsPerBatch = 20;
    private const int LeftOnDisk = 256 * 1024;

    [Fact]
    public async Task A_full_disk_refuses_writes_retryably_loses_no_acknowledged_event_and_the_node_recovers_when_space_is_freed()
    {
        await using var disk = await SmallDisk.MountAsync(megabytes: 24);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await using var node = NodeProcess.StartSingleNode("single-node", Path.Combine(disk.Path, "data"), disk.LogDirectory,
            new Dictionary<string, string> { ["Recommender__EventJournalRetryInterval"] = "00:00:01" });
        // No model yet, so never "ready"; items and events are accepted all the same.
        await node.WaitReadyAsync(http, TimeSpan.FromSeconds(90), probe: "/health/live");
        var api = node.BaseAddress;
        for (var i = 0; i < Items; i++)
        {
            using var put = await http.PutAsJsonAsync(new Uri(api, $"/items/disk-item-{i}"), new { title = $"Item {i}" });
            Assert.True(put.IsSuccessStatusCode, $"PUT answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        }

        // A little space left: some writes still fit, and some of them only in part (the journal's, not the users').
        disk.Fill(leaveBytes: LeftOnDisk);
        var acknowledged = new List<Event>();
        var pending = 0;
        List<Event>? refused = null;
        for (var batch = 0; batch < 500 && refused is null; batch++)
        {
            var events = Batch(batch);
            using var response = await http.PostAsJsonAsync(new Uri(api, "/events"), events);
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                acknowledged.AddRange(events);
                // 202: the journal holds events whose users' own writes failed; it delivers them later.
                if (response.StatusCode == HttpStatusCode.Accepted) pending++;
                continue;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable,
                $"batch {batch} on a full disk answered {(int)response.StatusCode}: {body}\n{node.Tail()}");
            Assert.NotNull(response.Headers.RetryAfter);
            using var problem = JsonDocument.Parse(body);
            Assert.Equal("The disk that holds the database file is full; nothing was written. Retry shortly.", problem.RootElement.GetProperty("detail").GetString());
            Assert.False(problem.RootElement.GetProperty("mayHaveBeenWritten").GetBoolean());
            refused = events;
        }
        Assert.True(refused is not null, $"no write was refused: the disk did not fill ({acknowledged.Count} events acknowledged)");
        output.WriteLine($"On the full disk: {acknowledged.Count} events acknowledged ({pending} batches held by the journal), then a batch refused.");
        using (var read = await http.GetAsync(new Uri(api, "/items/disk-item-0")))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var upload = await http.PostAsync(new Uri(api, "/models"), DemoPackageUpload()))
        {
            var body = await upload.Content.ReadAsStringAsync();
            Assert.True(upload.StatusCode == HttpStatusCode.ServiceUnavailable, $"a model upload on a full disk answered {(int)upload.StatusCode}: {body}\n{node.Tail()}");
            Assert.NotNull(upload.Headers.RetryAfter);
            using var problem = JsonDocument.Parse(body);
            Assert.Equal("A disk of the node is full; nothing was written. Retry shortly.", problem.RootElement.GetProperty("detail").GetString());
        }
        var models = Path.Combine(disk.Path, "data", "models");
        Assert.Empty(Directory.Exists(models) ? Directory.GetDirectories(models) : []);

        disk.Free();
        // The journal delivers what it acknowledged while the users' own writes failed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var user in acknowledged.GroupBy(e => e.UserId))
        {
            while (true)
            {
                var history = await HistoryAsync(http, api, user.Key);
                if (history.Events.Select(e => e.EventId).Order().SequenceEqual(user.Select(e => e.EventId).Order())) break;
                Assert.True(DateTime.UtcNow < deadline, $"user {user.Key}: stored {history.TotalCount} of {user.Count()} acknowledged events");
                await Task.Delay(250);
            }
        }
        // Refused means refused: by now the journal would have delivered anything it kept of that batch.
        foreach (var user in refused.Select(e => e.UserId).Distinct())
            Assert.Equal(0, (await HistoryAsync(http, api, user)).TotalCount);

        using (var again = await http.PostAsJsonAsync(new Uri(api, "/events"), refused))
            Assert.True(again.StatusCode == HttpStatusCode.OK, $"the refused batch sent again answered {(int)again.StatusCode}: {await again.Content.ReadAsStringAsync()}");
        foreach (var user in refused.GroupBy(e => e.UserId))
            Assert.Equal(user.Select(e => e.EventId).Order(), (await HistoryAsync(http, api, user.Key)).Events.Select(e => e.EventId).Order());
        using (var upload = await http.PostAsync(new Uri(api, "/models"), DemoPackageUpload()))
            Assert.True(upload.StatusCode == HttpStatusCode.Created, $"the model upload sent again answered {(int)upload.StatusCode}: {await upload.Content.ReadAsStringAsync()}");
        Assert.Equal([DemoVersion], Directory.GetDirectories(models).Select(Path.GetFileName));
        Assert.DoesNotContain("failed with an unexpected error", File.ReadAllText(node.LogPath));
    }

    private const string DemoVersion = "sasrec-idtext-ml-latest-small-d64";

    /// <summary>The model package the API bundles for its demo (not loaded here: the node starts without the demo).</summary>
    private static MultipartFormDataContent DemoPackageUpload()
    {
        var package = Path.Combine(Path.GetDirectoryName(RepositoryPaths.ProjectOutput("Recommender.Api"))!, "Demo", "model");
        var form = new MultipartFormDataContent();
        foreach (var (part, file) in new[] { ("manifest", "manifest.json"), ("encoder", "encoder.onnx"), ("embeddings", "item_embeddings.bin"), ("text_projection", "text_projection.onnx") })
            form.Add(new ByteArrayContent(File.ReadAllBytes(Path.Combine(package, file))), part, file);
        return form;
    }

    private static List<Event> Batch(int batch) => Enumerable.Range(0, EventsPerBatch)
        .Select(j => new Event($"disk-user-{batch}-{j % 5}", $"disk-item-{(batch + j) % Items}", "view", $"disk-{batch}-{j}"))
        .ToList();

    private static async Task<History> HistoryAsync(HttpClient http, Uri api, string user) =>
        (await http.GetFromJsonAsync<History>(new Uri(api, $"/users/{user}/history")))!;

    private sealed record Event(string UserId, string ItemId, string Type, string EventId);

    private sealed record History(long TotalCount, List<HistoryEvent> Events);

    private sealed record HistoryEvent(string EventId);
}
