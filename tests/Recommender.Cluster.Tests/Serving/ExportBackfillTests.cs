using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Grains.Users;
using Recommender.Hosting.Sql;
using Recommender.Model.Data;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>GET /events/export covers users whose history is stored but who are not in the user directory (stored before it existed).</summary>
[Collection(ServingCollection.Name)]
public sealed class ExportBackfillTests(ServingCluster cluster)
{
    private static UserState StateWith(params (string Item, DateTimeOffset At, string EventId)[] events)
    {
        var state = new UserState { TotalCount = events.Length, HistoryVersion = 1, NextArrival = events.Length };
        for (var i = 0; i < events.Length; i++)
            state.Events.Add(new StoredEvent(events[i].Item, EventType.View, events[i].At, events[i].EventId, null, i));
        return state;
    }

    private async Task<string[]> Export()
    {
        using var response = await cluster.Http.GetAsync("/events/export");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Users_stored_without_a_directory_entry_are_exported_once_under_an_id_that_reads_their_history()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var at = DateTimeOffset.UtcNow.AddDays(-1);
        // Stored the way the user grain stores them, but never listed in the directory: string, hexadecimal-integer,
        // integer-with-extension and 32-digit GUID keys (the storage files the last three as numbers; a GUID with
        // dashes is an ordinary string key).
        var numeric = (0x7000_0000L + Random.Shared.Next(1 << 24)).ToString("X");
        var legacy = new Dictionary<string, string>
        {
            [$"legacy-{tag}"] = $"legacy-{tag}",
            [numeric] = numeric,
            [$"00{numeric.ToLowerInvariant()}+{tag}"] = $"{numeric}+{tag}",
            [Guid.NewGuid().ToString("N").ToUpperInvariant()] = "",
            [Guid.NewGuid().ToString("D")] = "",
        };
        foreach (var id in legacy.Keys.Where(k => Guid.TryParse(k, out _)).ToArray())
            legacy[id] = id.Contains('-') ? id : id.ToLowerInvariant();

        var silo = (InProcessSiloHandle)cluster.Cluster.Primary!;
        var storage = silo.SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME);
        var n = 0;
        foreach (var id in legacy.Keys)
        {
            n++;
            var state = new GrainState<UserState>(StateWith(("10", at, $"{tag}-{n}-a"), ("12", at.AddMinutes(1), $"{tag}-{n}-b")));
            await storage.WriteStateAsync(AdoNetStoredUsers.UserGrainType, GrainId.Create("user", id), state);
        }
        // A user listed the ordinary way under a lower-case hexadecimal id: the backfill must not add it again as its upper-case twin.
        var listed = "ab" + tag;
        await ServingChecks.Post(cluster.Http, new { userId = listed, itemId = "10", type = "view", timestamp = ServingChecks.Now() });

        var lines = await Export();
        Assert.Equal(EventExportFormat.Header, lines[0]);
        var file = Path.Combine(cluster.DataDirectory, $"export-{Guid.NewGuid():N}.csv");
        await File.WriteAllLinesAsync(file, lines);
        var trainable = InteractionLoader.Load(file, InteractionFormat.EventExport);
        File.Delete(file);
        n = 0;
        foreach (var (stored, exported) in legacy)
        {
            n++;
            var mine = lines.Where(l => l.Contains($",{tag}-{n}-", StringComparison.Ordinal)).ToArray();
            Assert.Equal(2, mine.Length);
            Assert.All(mine, l => Assert.StartsWith(exported + ",", l, StringComparison.Ordinal));
            // The exported id reads the stored history back through the API.
            var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{Uri.EscapeDataString(exported)}/history");
            Assert.Equal([$"{tag}-{n}-a", $"{tag}-{n}-b"], history.Events.Select(e => e.EventId).ToArray());
        }
        Assert.Single(lines, l => l.StartsWith(listed + ",", StringComparison.OrdinalIgnoreCase));
        Assert.All(legacy.Values, id => Assert.Contains(id, trainable.UserIds!));

        // The directory now lists them: a second export has the same lines, nothing doubled.
        Assert.Equal(0, await cluster.Cluster.Client.GetGrain<IUserDirectoryBackfillGrain>(0).Backfill());
        var again = await Export();
        Assert.Equal(lines.Length, again.Length);
    }
}
