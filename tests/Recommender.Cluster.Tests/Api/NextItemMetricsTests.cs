using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Inference;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// The silos count each user's next event against the list served to them before it (recommender.online.next_items,
/// and recommender.online.next_item.rank when the list held the item), and the list's items the user dismissed
/// (recommender.online.dismissed_items), through HTTP and both event paths.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class NextItemMetricsTests(SmallCatalogueCluster cluster) : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 6, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, int Value, string Model, string Source)> _measurements = new();

    // Each measurement's instrument and its scenario tag (null: none).
    private readonly ConcurrentQueue<(string Instrument, string? Scenario)> _scenarios = new();

    private static string User() => "next-" + Guid.NewGuid().ToString("N");

    private static object Event(string user, string item, int minutes) => new { userId = user, itemId = item, type = "view", timestamp = T0.AddMinutes(minutes) };

    private void Listen()
    {
        // Only this cluster's silos: other test clusters in the process have serving meters of their own.
        var factories = cluster.Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<IMeterFactory>()).ToList();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServingMetrics.MeterName && factories.Contains(instrument.Meter.Scope)
                && instrument.Name.StartsWith("recommender.online.", StringComparison.Ordinal))
                listener.EnableMeasurementEvents(instrument);
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            string model = "", source = "";
            string? scenario = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "model") model = (string)tag.Value!;
                if (tag.Key == "source") source = (string)tag.Value!;
                if (tag.Key == "scenario") scenario = (string)tag.Value!;
            }
            _scenarios.Enqueue((instrument.Name, scenario));
            _measurements.Enqueue((instrument.Name, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture), model, source));
        }
        _listener.SetMeasurementEventCallback<long>(Record);
        _listener.SetMeasurementEventCallback<int>(Record);
        _listener.Start();
    }

    /// <summary>What was measured since the last call.</summary>
    private List<(string Instrument, int Value, string Model, string Source)> Taken()
    {
        var taken = new List<(string, int, string, string)>();
        while (_measurements.TryDequeue(out var m)) taken.Add(m);
        return taken;
    }

    private async Task<RecommendationsReply> Recommend(string user)
    {
        var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.Equal(10, reply.Items.Count);
        return reply;
    }

    private async Task Post(params object[] events)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/events", events);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The scenarios of what was measured since the last call, by instrument, in order.</summary>
    private List<(string Instrument, string? Scenario)> TakenScenarios()
    {
        var taken = new List<(string, string?)>();
        while (_scenarios.TryDequeue(out var m)) taken.Add(m);
        return [.. taken.OrderBy(m => m.Item1, StringComparer.Ordinal)];
    }

    [Fact]
    public async Task What_users_and_visitors_do_after_a_list_read_under_a_scenario_is_counted_under_its_name()
    {
        var scenario = "metrics-" + Guid.NewGuid().ToString("N");
        using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{scenario}", new { capEach = new[] { "*:5" } }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        Listen();
        var user = User();
        await Post(Event(user, "1", 0), Event(user, "2", 1), Event(user, "3", 2));
        var list = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10&scenario={scenario}");
        await Post(Event(user, list.Items[2].Id, 3), new { userId = user, itemId = list.Items[4].Id, type = "purchase", value = 12.5, timestamp = T0.AddMinutes(4) },
            new { userId = user, itemId = list.Items[5].Id, type = "dismiss", timestamp = T0.AddMinutes(5) });
        Assert.Equal([("recommender.online.dismissed_items", scenario), ("recommender.online.next_item.rank", scenario), ("recommender.online.next_items", scenario),
            ("recommender.online.purchased_items", scenario)], TakenScenarios());
        // A list read without one is counted without one.
        list = await Recommend(user);
        await Post(Event(user, list.Items[0].Id, 6));
        Assert.Equal([("recommender.online.next_item.rank", null), ("recommender.online.next_items", null)], TakenScenarios());

        // A visitor's next item answers the session list read under the scenario (the session grain tells the
        // visitor's grain without waiting, so the second session comes a little later, as a next page view would).
        var visitor = "visitor-" + Guid.NewGuid().ToString("N");
        using var first = await cluster.Http.PostAsJsonAsync($"/recommendations?k=10&scenario={scenario}", new { items = new[] { "1", "2" }, visitorId = visitor });
        var shown = (await first.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items;
        await Task.Delay(100);
        using var second = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", new { items = new[] { "1", "2", shown[0].Id }, visitorId = visitor });
        Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        var counted = new List<(string Instrument, string? Scenario)>();
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); counted.Count < 2 && waited.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(50))
            counted.AddRange(TakenScenarios());
        Assert.Equal([("recommender.online.next_item.rank", scenario), ("recommender.online.next_items", scenario)], counted.OrderBy(m => m.Instrument, StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_users_next_event_is_counted_once_against_the_list_served_before_it_with_its_rank()
    {
        Listen();
        var user = User();
        await Post(Event(user, "1", 0), Event(user, "2", 1), Event(user, "3", 2));
        Assert.Empty(Taken());

        var list = await Recommend(user);
        Assert.Equal("model", list.Source);
        await Post(Event(user, list.Items[2].Id, 3));
        Assert.Equal([("recommender.online.next_items", 1, list.ModelVersion, "model"), ("recommender.online.next_item.rank", 3, list.ModelVersion, "model")], Taken());
        // The list has been answered: a second event is not counted again.
        await Post(Event(user, list.Items[0].Id, 4));
        Assert.Empty(Taken());

        // A seen item is never in the list (seen items are left out): the event is counted, without a rank.
        list = await Recommend(user);
        await Post(Event(user, "1", 5));
        Assert.Equal([("recommender.online.next_items", 1, list.ModelVersion, "model")], Taken());

        // History arriving late (older than the newest event the list was ranked from) is not an answer to it; the
        // next event after it is.
        list = await Recommend(user);
        await Post(Event(user, list.Items[0].Id, -60));
        Assert.Empty(Taken());
        await Post(Event(user, list.Items[0].Id, 6));
        Assert.Equal([("recommender.online.next_items", 1, list.ModelVersion, "model"), ("recommender.online.next_item.rank", 1, list.ModelVersion, "model")], Taken());
    }

    [Fact]
    public async Task Dismissals_of_items_in_the_list_served_before_are_counted_once_each()
    {
        Listen();
        var user = User();
        await Post(Event(user, "1", 0), Event(user, "2", 1), Event(user, "3", 2));
        var list = await Recommend(user);
        object Dismiss(string item, int minutes) => new { userId = user, itemId = item, type = "dismiss", timestamp = T0.AddMinutes(minutes) };

        await Post(Dismiss(list.Items[1].Id, 3));
        Assert.Equal([("recommender.online.dismissed_items", 1, list.ModelVersion, "model")], Taken());
        // The dismissal was no answer: the next view is, and a repeated dismissal of the same item is not counted again.
        await Post(Event(user, list.Items[4].Id, 4), Dismiss(list.Items[1].Id, 5));
        Assert.Equal([("recommender.online.next_item.rank", 5, list.ModelVersion, "model"), ("recommender.online.next_items", 1, list.ModelVersion, "model")],
            Taken().OrderBy(m => m.Instrument, StringComparer.Ordinal));
        // Dismissing an item outside the list (one the user had, so never listed) counts nothing; another of its items
        // counts after the answer too.
        await Post(Dismiss("1", 6), Dismiss(list.Items[0].Id, 7));
        Assert.Equal([("recommender.online.dismissed_items", 1, list.ModelVersion, "model")], Taken());
    }

    [Fact]
    public async Task Popular_lists_and_events_written_through_the_journal_are_counted_too()
    {
        Listen();
        string newcomer = User(), other = User();
        // No history: the popularity list.
        var list = await Recommend(newcomer);
        Assert.Equal("popularity", list.Source);
        // A batch for two users goes through the event journal; only the user who was served a list is counted.
        await Post(Event(newcomer, list.Items[4].Id, 0), Event(other, list.Items[4].Id, 0), Event(newcomer, list.Items[0].Id, 1));
        Assert.Equal([("recommender.online.next_items", 1, list.ModelVersion, "popularity"), ("recommender.online.next_item.rank", 5, list.ModelVersion, "popularity")], Taken());
    }

    [Fact]
    public async Task Erasing_a_user_forgets_the_list_served_to_them()
    {
        Listen();
        var user = User();
        await Post(Event(user, "1", 0));
        var list = await Recommend(user);
        (await cluster.Http.DeleteAsync($"/users/{user}")).EnsureSuccessStatusCode();
        await Post(Event(user, list.Items[0].Id, 1));
        Assert.Empty(Taken());
    }

    public void Dispose() => _listener.Dispose();
}
