using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Infrastructure;
using static Recommender.Cluster.Tests.Serving.SmallCatalogueTags;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// slot=TAG:POSITION on every list: the place holds the most relevant item of the tag that the list may hold and does
/// not show above it, the ranked items fill the others, on every page alike.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class SlotTests(ServingCluster cluster)
{
    private async Task<List<RecommendedItemReply>> User(string query) =>
        (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?{query}")).Items;

    /// <summary>
    /// The list a walk down from the top gives: at a slot's place the first of <paramref name="tagged"/> not listed yet,
    /// elsewhere the first of <paramref name="ranked"/> not listed yet; <paramref name="k"/> long.
    /// </summary>
    private static List<string> Walk(IReadOnlyList<string> ranked, IReadOnlyList<string> tagged, int[] slots, int k)
    {
        var list = new List<string>();
        while (list.Count < k)
        {
            var next = (slots.Contains(list.Count + 1) ? tagged.FirstOrDefault(id => !list.Contains(id)) : null) ?? ranked.FirstOrDefault(id => !list.Contains(id));
            if (next is null) break;
            list.Add(next);
        }
        return list;
    }

    [Fact]
    public async Task A_slot_holds_the_best_item_of_its_tag_not_shown_above_it_on_every_page()
    {
        var plain = (await User("k=1000")).Select(i => i.Id).ToList();
        var dramas = (await User("k=1000&tag=drama")).Select(i => i.Id).ToList();
        // The plain list's top two are not both dramas, or a slot at 2 would add nothing to see.
        var expected = Walk(plain, dramas, [2, 5], 10);
        var slotted = await User("k=10&slot=drama:2&slot=Drama:5");
        Assert.Equal(expected, slotted.Select(i => i.Id));
        Assert.NotEqual(plain.Take(10), slotted.Select(i => i.Id));
        Assert.Equal(["drama", "drama"], slotted.Where(i => i.Slot is not null).Select(i => i.Slot!.ToLowerInvariant()));
        Assert.True(Even(slotted[1]) && Even(slotted[4]));
        Assert.Equal(1, slotted.Sum(i => i.Score), 6);
        // Each item keeps its own similarity; pages read in turn make up the list.
        var similarity = (await User("k=1000")).ToDictionary(i => i.Id, i => i.Similarity);
        Assert.All(slotted, i => Assert.Equal(similarity[i.Id], i.Similarity));
        Assert.Equal(expected.Skip(5), (await User("k=5&offset=5&slot=drama:2&slot=drama:5")).Select(i => i.Id));
        Assert.Equal(Walk(plain, dramas, [2, 5], 20).Skip(10), (await User("k=10&offset=10&slot=drama:2&slot=drama:5")).Select(i => i.Id));

        // A pin of the slot's place takes it; a pin the list cannot hold leaves it to the slot.
        var seen = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events[0].ItemId;
        var pinnedOver = await User($"k=10&slot=drama:2&pin={plain[40]}:2");
        Assert.Equal(plain[40], pinnedOver[1].Id);
        Assert.True(pinnedOver[1].Pinned);
        Assert.DoesNotContain(pinnedOver, i => i.Slot is not null);
        Assert.Equal(Walk(plain, dramas, [2], 10), (await User($"k=10&slot=drama:2&pin={seen}:2")).Select(i => i.Id));
        // Beside a pin above it, a slot keeps its place.
        var withPin = await User($"k=10&slot=drama:4&pin={plain[40]}:1");
        Assert.Equal([plain[40], .. Walk(plain.Where(id => id != plain[40]).ToList(), dramas.Where(id => id != plain[40]).ToList(), [3], 9)], withPin.Select(i => i.Id));
        Assert.Equal("drama", withPin[3].Slot!.ToLowerInvariant());

        // The list's filters hold for the slot's items: a tag nothing under them carries leaves the place to the ranking.
        var actionDramas = await User("k=10&tag=drama&slot=action:1");
        Assert.Equal(dramas.Take(10), actionDramas.Select(i => i.Id));
        Assert.DoesNotContain(actionDramas, i => i.Slot is not null);
        var noDramas = await User("k=10&excludeTag=drama&slot=drama:1");
        Assert.Equal((await User("k=10&excludeTag=drama")).Select(i => i.Id), noDramas.Select(i => i.Id));
        Assert.DoesNotContain(noDramas, i => i.Slot is not null);
        Assert.Equal(plain.Take(10), (await User("k=10&slot=no-such-tag:3")).Select(i => i.Id));
        Assert.Equal(Walk(plain.Where(id => id != dramas[0]).ToList(), dramas.Skip(1).ToList(), [1], 10),
            (await User($"k=10&exclude={dramas[0]}&slot=drama:1")).Select(i => i.Id));
    }

    [Fact]
    public async Task Sessions_similar_items_and_the_popular_list_take_slots_too()
    {
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(6).ToArray();
        var session = (await ServingChecks.SessionList(cluster.Http, items, "k=1000")).Select(i => i.Id).ToList();
        var sessionActions = (await ServingChecks.SessionList(cluster.Http, items, "k=1000&tag=action")).Select(i => i.Id).ToList();
        Assert.Equal(Walk(session, sessionActions, [1, 3], 8), (await ServingChecks.SessionList(cluster.Http, items, "k=8&slot=action:1&slot=action:3")).Select(i => i.Id));

        var similar = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000")).Items.Select(i => i.Id).ToList();
        var similarActions = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=1000&tag=action")).Items.Select(i => i.Id).ToList();
        var similarSlotted = (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=6&slot=action:2")).Items;
        Assert.Equal(Walk(similar, similarActions, [2], 6), similarSlotted.Select(i => i.Id));
        Assert.Equal("action", similarSlotted[1].Slot!.ToLowerInvariant());

        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var popular = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items.Select(i => i.Id).ToList();
            var popularDramas = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&tag=drama")).Items.Select(i => i.Id).ToList();
            var slotted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=8&slot=drama:1&slot=drama:2")).Items;
            var boostedActions = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&tag=action&boost=action:3")).Items.Select(i => i.Id).ToList();
            var boosted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&boost=action:3")).Items.Select(i => i.Id).ToList();
            var boostedSlotted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=6&boost=action:3&slot=action:4")).Items.Select(i => i.Id);
            Assert.Equal(popular, (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items.Select(i => i.Id));
            Assert.Equal(Walk(popular, popularDramas, [1, 2], 8), slotted.Select(i => i.Id));
            Assert.Equal(["drama", "drama"], slotted.Take(2).Select(i => i.Slot!.ToLowerInvariant()));
            Assert.Equal(Walk(boosted, boostedActions, [4], 6), boostedSlotted);
        });
    }

    [Fact]
    public async Task A_diverse_list_gives_a_slots_place_to_the_best_item_of_its_tag_not_shown_above_it()
    {
        var dramas = (await User("k=1000&tag=drama")).Select(i => i.Id).ToList();
        var diverse = await User("k=10&diversity=0.5");
        var slotted = await User("k=10&diversity=0.5&slot=drama:3&slot=drama:7");
        var ids = slotted.Select(i => i.Id).ToList();
        // Above the first slot the diverse pick is as without slots; each slot holds the best drama not shown above it.
        Assert.Equal(diverse.Take(2).Select(i => i.Id), ids.Take(2));
        Assert.Equal(dramas.First(d => !ids.Take(2).Contains(d)), ids[2]);
        Assert.Equal(dramas.First(d => !ids.Take(6).Contains(d)), ids[6]);
        Assert.Equal(["drama", "drama"], slotted.Where(i => i.Slot is not null).Select(i => i.Slot!.ToLowerInvariant()));
        Assert.Equal([2, 6], slotted.Select((item, place) => (item, place)).Where(p => p.item.Slot is not null).Select(p => p.place));
        Assert.Equal(10, ids.Distinct().Count());
        Assert.NotEqual(diverse.Select(i => i.Id), ids);
        Assert.Equal(1, slotted.Sum(i => i.Score), 6);
        var similarity = (await User("k=1000")).ToDictionary(i => i.Id, i => i.Similarity);
        Assert.All(slotted, i => Assert.Equal(similarity[i.Id], i.Similarity));

        // Similar items and the popular list alike.
        var similarDramas = (await cluster.GetJsonAsync<SimilarReply>("/items/3/similar?k=1000&tag=drama")).Items.Select(i => i.Id).ToList();
        var similar = (await cluster.GetJsonAsync<SimilarReply>("/items/3/similar?k=6&diversity=0.5&slot=drama:1")).Items;
        Assert.Equal(similarDramas[0], similar[0].Id);
        Assert.Equal("drama", similar[0].Slot!.ToLowerInvariant());
        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var popularActions = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&tag=action")).Items.Select(i => i.Id).ToList();
            var popularDiverse = (await cluster.GetJsonAsync<PopularReply>("/popular?k=8&diversity=0.5")).Items.Select(i => i.Id).ToList();
            var popular = (await cluster.GetJsonAsync<PopularReply>("/popular?k=8&diversity=0.5&slot=action:2")).Items;
            Assert.Equal(popularDiverse[0], popular[0].Id);
            Assert.Equal(popularActions.First(a => a != popular[0].Id), popular[1].Id);
            Assert.Equal("action", popular[1].Slot!.ToLowerInvariant());
            Assert.Equal(8, popular.Select(i => i.Id).Distinct().Count());
        });
    }

    [Fact]
    public async Task An_answer_names_the_slots_on_its_page_that_no_item_of_their_tag_filled()
    {
        var plain = (await User("k=100")).Select(i => i.Id).ToList();
        var reply = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&slot=no-such-tag:3&slot=drama:5");
        Assert.Equal([new UnfilledSlotReply("no-such-tag", 3, "noItems")], reply.UnfilledSlots!);
        Assert.Equal("drama", reply.Items[4].Slot!.ToLowerInvariant());
        // Only the slots on the page; a filled one, or a place a pin holds, is not named.
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=5&offset=5&slot=no-such-tag:3")).UnfilledSlots);
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&slot=drama:2")).UnfilledSlots);
        Assert.Null((await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&slot=no-such-tag:3&pin={plain[40]}:3")).UnfilledSlots);
        // A tag the list's filters leave no item of (which items do carry), and a place past the list's end.
        Assert.Equal([new UnfilledSlotReply("action", 1, "noneAllowed")],
            (await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&tag=drama&slot=action:1")).UnfilledSlots!);
        Assert.Equal([new UnfilledSlotReply("action", 2, "noneAllowed")],
            (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=5&excludeTag=action&slot=action:2")).UnfilledSlots!);
        Assert.Equal([new UnfilledSlotReply("action", 1, "noneAllowed")], (await cluster.GetJsonAsync<PopularReply>("/popular?k=5&tag=drama&slot=action:1")).UnfilledSlots!);
        var dramas = await User("k=1000&tag=drama");
        Assert.Equal([new UnfilledSlotReply("romance", dramas.Count + 1, "listEnded")],
            (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=1000&tag=drama&slot=romance:{dramas.Count + 1}")).UnfilledSlots!);

        Assert.Equal([new UnfilledSlotReply("no-such-tag", 2, "noItems")], (await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=5&slot=no-such-tag:2")).UnfilledSlots!);
        Assert.Equal([new UnfilledSlotReply("no-such-tag", 1, "noItems")], (await cluster.GetJsonAsync<PopularReply>("/popular?k=5&slot=no-such-tag:1&slot=drama:2")).UnfilledSlots!);
        Assert.Equal([new UnfilledSlotReply("no-such-tag", 4, "noItems")], (await cluster.GetJsonAsync<PopularReply>("/popular?k=5&diversity=0.5&slot=no-such-tag:4")).UnfilledSlots!);
        var items = (await cluster.GetJsonAsync<HistoryReply>("/users/5/history")).Events.Select(e => e.ItemId).Distinct().Take(3).ToArray();
        using var session = await cluster.Http.PostAsJsonAsync("/recommendations?k=5&diversity=0.3&slot=no-such-tag:5", new { items });
        Assert.Equal([new UnfilledSlotReply("no-such-tag", 5, "noItems")], (await session.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.UnfilledSlots!);
    }

    [Fact]
    public async Task A_slot_whose_tags_only_item_is_excluded_has_none_allowed_and_once_it_is_hidden_no_items()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"lone-{Guid.NewGuid():N}";
        var item = $"{tag}-item";
        try
        {
            using (var written = await cluster.Http.PutAsJsonAsync($"/items/{item}", new { title = item, tags = new[] { tag }, embedding = Enumerable.Repeat(0.1f, dimension) }))
                Assert.True(written.StatusCode == HttpStatusCode.OK, await written.Content.ReadAsStringAsync());
            Assert.Equal(tag, (await User($"k=5&slot={tag}:2"))[1].Slot);
            Assert.Equal([new UnfilledSlotReply(tag, 2, "noneAllowed")],
                (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=5&excludeId={item}&slot={tag}:2")).UnfilledSlots!);
        }
        finally
        {
            await ServingChecks.HideAsync(cluster, [(item, [tag])]);
        }
        Assert.Equal([new UnfilledSlotReply(tag, 2, "noItems")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=5&slot={tag}:2")).UnfilledSlots!);
    }

    [Fact]
    public async Task The_front_end_counts_the_slots_of_each_page_filled_or_not_by_list_and_scenario()
    {
        using var slots = new FrontEndMeasurements(cluster.FrontEndServices, "recommender.slots");
        // A slot beyond the page is not counted; a list without slots counts nothing.
        await User("k=10&slot=drama:2&slot=no-such-tag:4&slot=drama:30");
        await User("k=10");
        Assert.Equal(1, slots.Sum(("outcome", "filled"), ("list", "user"), ("scenario", "")));
        Assert.Equal(1, slots.Sum(("outcome", "unfilled"), ("reason", "noItems"), ("list", "user"), ("scenario", "")));
        Assert.Equal(2, slots.Sum());

        await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=5&slot=action:1&slot=action:2");
        Assert.Equal(2, slots.Sum(("outcome", "filled"), ("list", "similar")));
        await cluster.GetJsonAsync<PopularReply>("/popular?k=5&slot=no-such-tag:1");
        Assert.Equal(1, slots.Sum(("outcome", "unfilled"), ("list", "popular")));

        // A scenario's slots are counted under its name.
        var name = $"test-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/scenarios/{name}", new { slot = new[] { "drama:1", "no-such-tag:2" } }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await User($"k=10&scenario={name}");
        Assert.Equal(1, slots.Sum(("outcome", "filled"), ("scenario", name)));
        Assert.Equal(1, slots.Sum(("outcome", "unfilled"), ("scenario", name)));
        Assert.Equal(7, slots.Sum());
    }

    /// <summary>
    /// The list a walk down <paramref name="ranked"/> gives under a cap of <paramref name="capCount"/> on the items
    /// <paramref name="capped"/> says carry its tag: at a slot's place (a key of <paramref name="slots"/>) the first of its
    /// tag's items not listed that the cap lets in, elsewhere the first ranked item not listed that it lets in;
    /// <paramref name="k"/> long; with the places slots filled.
    /// </summary>
    private static (List<string> Ids, List<int> SlotPlaces) WalkCapped(IReadOnlyList<string> ranked, Dictionary<int, List<string>> slots, int k,
        Func<string, bool> capped, int capCount)
    {
        var list = new List<string>();
        var slotPlaces = new List<int>();
        bool Fits(string id) => !list.Contains(id) && (!capped(id) || list.Count(capped) < capCount);
        while (list.Count < k)
        {
            var next = slots.TryGetValue(list.Count + 1, out var tagged) ? tagged.FirstOrDefault(Fits) : null;
            if (next is not null) slotPlaces.Add(list.Count + 1);
            next ??= ranked.FirstOrDefault(Fits);
            if (next is null) break;
            list.Add(next);
        }
        return (list, slotPlaces);
    }

    [Fact]
    public async Task Under_caps_a_slot_takes_the_best_item_of_its_tag_the_caps_let_in_and_counts_against_them()
    {
        var ids = (await User("k=1000")).Select(i => i.Id).ToList();
        var dramas = (await User("k=1000&tag=drama")).Select(i => i.Id).ToList();
        var actions = (await User("k=1000&tag=action")).Select(i => i.Id).ToList();
        var (dramaSet, actionSet) = (dramas.ToHashSet(), actions.ToHashSet());
        foreach (var (query, slots, capped, count) in new (string, Dictionary<int, List<string>>, Func<string, bool>, int)[]
        {
            ("cap=drama:2&slot=drama:5", new() { [5] = dramas }, dramaSet.Contains, 2),
            ("cap=drama:1&slot=drama:3&slot=drama:6", new() { [3] = dramas, [6] = dramas }, dramaSet.Contains, 1),
            ("cap=drama:3&slot=action:1&slot=drama:2", new() { [1] = actions, [2] = dramas }, dramaSet.Contains, 3),
            ("cap=action:1&slot=action:2&slot=action:4", new() { [2] = actions, [4] = actions }, actionSet.Contains, 1),
        })
        {
            var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&{query}");
            var (expected, slotPlaces) = WalkCapped(ids, slots, 10, capped, count);
            Assert.Equal(expected, reply.Items.Select(i => i.Id));
            Assert.True(reply.Items.Count(i => capped(i.Id)) <= count, query);
            // The walk's slot items are the answer's, marked; a slot that found none the cap lets in is named.
            Assert.Equal(slotPlaces, reply.Items.Select((item, place) => (item, place + 1)).Where(p => p.item.Slot is not null).Select(p => p.Item2));
            Assert.Equal(slots.Keys.Except(slotPlaces).Order(), (reply.UnfilledSlots ?? []).Select(u => u.Position));
            Assert.All(reply.UnfilledSlots ?? [], u => Assert.Equal("capped", u.Reason));
        }

        await ServingChecks.WhileTheLiveListSettles(async () =>
        {
            var popular = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000")).Items.Select(i => i.Id).ToList();
            var popularDramas = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&tag=drama")).Items.Select(i => i.Id).ToList();
            var popularDramaSet = popularDramas.ToHashSet();
            Assert.Equal(WalkCapped(popular, new() { [4] = popularDramas }, 8, popularDramaSet.Contains, 2).Ids,
                (await cluster.GetJsonAsync<PopularReply>("/popular?k=8&cap=drama:2&slot=drama:4")).Items.Select(i => i.Id));
            var boosted = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&boost=action:3")).Items.Select(i => i.Id).ToList();
            var boostedDramas = (await cluster.GetJsonAsync<PopularReply>("/popular?k=1000&boost=action:3&tag=drama")).Items.Select(i => i.Id).ToList();
            Assert.Equal(WalkCapped(boosted, new() { [2] = boostedDramas }, 8, popularDramaSet.Contains, 1).Ids,
                (await cluster.GetJsonAsync<PopularReply>("/popular?k=8&boost=action:3&cap=drama:1&slot=drama:2")).Items.Select(i => i.Id));
        });

        // A diverse list under caps: a slot's item fits them and counts against them.
        var diverse = await cluster.GetJsonAsync<RecommendationsReply>("/users/5/recommendations?k=10&diversity=0.5&cap=drama:2&slot=drama:3&slot=drama:8");
        Assert.True(diverse.Items.Count(i => dramaSet.Contains(i.Id)) <= 2);
        Assert.Equal(10, diverse.Items.Count);
        Assert.All(diverse.Items.Where(i => i.Slot is not null), i => Assert.Contains(i.Id, dramaSet));
        Assert.Equal(2, diverse.Items.Count(i => i.Slot is not null) + (diverse.UnfilledSlots?.Count ?? 0));
    }

    [Fact]
    public async Task Under_caps_a_scan_plain_or_diverse_goes_deeper_for_a_slot_whose_tags_best_items_the_caps_keep_out()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        float[] Vector(float similar)
        {
            var vector = new float[dimension];
            (vector[0], vector[1]) = (similar, 1 - similar);
            return vector;
        }
        // A hundred and twenty sponsored items of one brand, the first most like the anchor and the others after two plain
        // items, then two sponsored items of no brand: the list of three fills from the first rows each shard ranks (or,
        // diverse, from its pool of twelve), while the slot's first candidates on every shard are the brand's, which the
        // cap keeps out once its first item is listed.
        var tag = $"deep-{Guid.NewGuid():N}";
        var anchor = $"{tag}-anchor";
        (string Id, float[] Embedding, string[] Tags)[] items =
        [
            (anchor, Vector(1), []),
            .. Enumerable.Range(0, 120).Select(i => ($"{tag}-brand-{i:D3}", Vector(i == 0 ? 0.999f : 0.99f - i * 0.001f), new[] { tag, "sponsored-x", "brand-x" })),
            ($"{tag}-plain-0", Vector(0.998f), [tag]),
            ($"{tag}-plain-1", Vector(0.997f), [tag]),
            ($"{tag}-other-0", Vector(0.8f), [tag, "sponsored-x"]),
            ($"{tag}-other-1", Vector(0.7f), [tag, "sponsored-x"]),
        ];
        try
        {
            using (var written = await cluster.Http.PostAsJsonAsync("/items", items.Select(i => new { id = i.Id, title = i.Id, tags = i.Tags, embedding = i.Embedding })))
                Assert.True(written.StatusCode == HttpStatusCode.OK, await written.Content.ReadAsStringAsync());
            var reply = await cluster.GetJsonAsync<SimilarReply>($"/items/{anchor}/similar?k=3&tag={tag}&cap=brand-x:1&slot=sponsored-x:3");
            // The brand's best, the best plain item, then the best sponsored item the cap lets in, 120 places down.
            Assert.Equal([$"{tag}-brand-000", $"{tag}-plain-0", $"{tag}-other-0"], reply.Items.Select(i => i.Id));
            Assert.Equal("sponsored-x", reply.Items[2].Slot);
            Assert.Null(reply.UnfilledSlots);
            // A diverse list too: its pool goes deeper until the slot finds a sponsored item of no brand.
            var diverse = await cluster.GetJsonAsync<SimilarReply>($"/items/{anchor}/similar?k=3&tag={tag}&cap=brand-x:1&slot=sponsored-x:3&diversity=0.5");
            Assert.Equal("sponsored-x", diverse.Items[2].Slot);
            Assert.StartsWith($"{tag}-other-", diverse.Items[2].Id, StringComparison.Ordinal);
            Assert.Null(diverse.UnfilledSlots);
            Assert.Single(diverse.Items, i => i.Id.StartsWith($"{tag}-brand-", StringComparison.Ordinal));
        }
        finally
        {
            await ServingChecks.HideAsync(cluster, [.. items.Select(i => (i.Id, i.Tags))]);
        }
    }

    [Fact]
    public async Task A_malformed_slot_is_refused_naming_slot()
    {
        string[] queries =
        [
            "slot=drama", "slot=drama:0", "slot=drama:1001", "slot=drama:x", "slot=:3", "slot=drama:2&slot=action:2",
            string.Join("&", Enumerable.Range(1, Limits.MaxSlots + 1).Select(i => $"slot=drama:{i}")),
        ];
        foreach (var path in new[] { "/users/5/recommendations", "/items/2/similar", "/popular" })
            await ServingChecks.EachIsAProblemNaming(cluster.Http, path, "slot", queries, "slot=drama:0&cap=drama:1", "must be a whole number from 1", "slot=a:b:2");
    }
}
