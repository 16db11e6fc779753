using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// GET /latest with pins and slots, as the other lists take them: a pinned item at its place (an editor's pick at the
/// top of a news feed, dated or not), a slot's place given to the newest item of its tag not shown above it; both
/// under caps, across pages and from a scenario.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class LatestListTests(ServingCluster cluster)
{
    private sealed record LatestReply(string ModelVersion, List<LatestItemReply> Items, List<UnplacedPinReply>? UnplacedPins = null, List<UnfilledSlotReply>? UnfilledSlots = null);

    private sealed record LatestItemReply(string Id, string Title, DateTimeOffset? AvailableFrom, bool? Pinned = null, string? Slot = null);

    private Task<LatestReply> Latest(string query) => cluster.GetJsonAsync<LatestReply>($"/latest?{query}");

    private async Task<string[]> Ids(string query) => [.. (await Latest(query)).Items.Select(i => i.Id)];

    [Fact]
    public async Task Pins_and_slots_take_their_places_in_the_newest_items_under_caps_across_pages_and_from_a_scenario()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"feed-{Guid.NewGuid():N}";
        var sponsored = $"{tag}-sponsored";
        var embedding = Enumerable.Range(0, dimension).Select(i => i % 2 == 0 ? 0.3f : -0.2f).ToArray();
        var now = DateTimeOffset.UtcNow;
        // Newest first: n1 .. n4 within the hour, n5 three days old; u without a time. Sources a and b; n4 and n5 sponsored.
        var (n1, n2, n3, n4, n5, u) = ($"{tag}-n1", $"{tag}-n2", $"{tag}-n3", $"{tag}-n4", $"{tag}-n5", $"{tag}-u");
        object Item(string id, int? minutesAgo, params string[] tags) => minutesAgo is { } m
            ? new { id, title = id, tags = (string[])[tag, .. tags], embedding, availableFrom = now.AddMinutes(-m) }
            : new { id, title = id, tags = (string[])[tag, .. tags], embedding };
        using (var written = await cluster.Http.PostAsJsonAsync("/items", new[]
               {
                   Item(n1, 10, "source:a"), Item(n2, 20, "source:a"), Item(n3, 30, "source:b"), Item(n4, 40, "source:a", sponsored),
                   Item(n5, 3 * 24 * 60, sponsored), Item(u, null),
               }))
            Assert.True(written.StatusCode == HttpStatusCode.OK, await written.Content.ReadAsStringAsync());
        var scenario = $"test-{Guid.NewGuid():N}";
        try
        {
            Assert.Equal([n1, n2, n3, n4, n5], await Ids($"k=10&tag={tag}"));

            // A pinned item without a time is placed, its time null; the newest items fill the other places.
            using (var counted = new FrontEndMeasurements(cluster.FrontEndServices, "recommender.pins"))
            {
                var pinned = await Latest($"k=3&tag={tag}&pin={u}:1");
                Assert.Equal([u, n1, n2], pinned.Items.Select(i => i.Id));
                Assert.Equal((true, (DateTimeOffset?)null), (pinned.Items[0].Pinned == true, pinned.Items[0].AvailableFrom));
                Assert.All(pinned.Items.Skip(1), i => Assert.Null(i.Pinned));
                Assert.NotNull(pinned.Items[1].AvailableFrom);
                Assert.Null(pinned.UnplacedPins);
                Assert.Equal(1, counted.Sum(("list", "latest"), ("outcome", "placed")));
            }
            // A dated item pinned higher leaves its own place: no page lists it twice.
            Assert.Equal([n4, n1, n2], await Ids($"k=3&tag={tag}&pin={n4}:1"));
            Assert.Equal([n3, n5], await Ids($"k=3&offset=3&tag={tag}&pin={n4}:1"));
            Assert.Equal([n1, n2, n3], await Ids($"k=3&tag={tag}&pin={n4}:9"));
            // A pin the list cannot hold says why, and the newest items keep its place.
            var refused = await Latest($"k=3&tag={tag}&maxAge=2d&pin={n5}:1&pin=2:2&pin={tag}-never:3");
            Assert.Equal([n1, n2, n3], refused.Items.Select(i => i.Id));
            Assert.Equal([new(n5, 1, "tooOld"), new("2", 2, "outsideTags"), new($"{tag}-never", 3, "unknown")], refused.UnplacedPins!);

            // A slot takes the newest item of its tag not shown above it.
            var slotted = await Latest($"k=3&tag={tag}&slot={sponsored}:2");
            Assert.Equal([n1, n4, n2], slotted.Items.Select(i => i.Id));
            Assert.Equal([null, sponsored, null], slotted.Items.Select(i => i.Slot));
            Assert.Equal([n4, n5, n1], await Ids($"k=3&tag={tag}&slot={sponsored}:1&slot={sponsored}:2"));
            Assert.Equal([n1, n2, n3], await Ids($"k=3&tag={tag}&slot={sponsored}:2&maxAge=2d&exclude={n4}"));
            Assert.Equal([new(sponsored, 2, "noneAllowed")], (await Latest($"k=3&tag={tag}&slot={sponsored}:2&maxAge=2d&exclude={n4}")).UnfilledSlots!);
            Assert.Equal([new($"{tag}-nothing", 1, "noItems")], (await Latest($"k=3&tag={tag}&slot={tag}-nothing:1")).UnfilledSlots!);
            // A slot on the next page: the pages make up one list.
            Assert.Equal([n1, n4, n2, n3, n5], [.. await Ids($"k=2&tag={tag}&slot={sponsored}:2"), .. await Ids($"k=3&offset=2&tag={tag}&slot={sponsored}:2")]);

            // Under caps a slot takes only an item they let in, and a pinned item counts against the caps of its tags.
            var capped = await Latest($"k=4&tag={tag}&capEach=source:1&slot={sponsored}:2");
            Assert.Equal([n1, n5, n3], capped.Items.Select(i => i.Id));
            Assert.Equal(sponsored, capped.Items[1].Slot);
            Assert.Equal([n3, n5, n2], await Ids($"k=4&tag={tag}&capEach=source:1&pin={n2}:3"));
            // Wherever its place, so that every page makes the same room for it.
            Assert.Equal([n3, n5], await Ids($"k=2&tag={tag}&capEach=source:1&pin={n2}:5"));

            // A scenario's pins and slots reach the latest list, with its tag filter.
            using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{scenario}", new { tag = new[] { tag }, pin = new[] { $"{u}:1" }, slot = new[] { $"{sponsored}:3" } }))
                Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
            var fromScenario = await Latest($"k=4&scenario={scenario}");
            Assert.Equal([u, n1, n4, n2], fromScenario.Items.Select(i => i.Id));
            Assert.Equal((true, sponsored), (fromScenario.Items[0].Pinned == true, fromScenario.Items[2].Slot));
            // The request's own pin at the scenario's place replaces it.
            Assert.Equal([n3, n1, n4, n2], await Ids($"k=4&scenario={scenario}&pin={n3}:1"));
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/scenarios/{scenario}")) { }
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { n1, n2, n3, n4, n5, u })) { }
        }
        Assert.Empty(await Ids($"k=10&tag={tag}"));
    }
}
