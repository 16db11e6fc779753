using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// DELETE /items/{id} erases an item's details and takes it out of every list at once, under every version; writing it
/// again adds it as a new item, with nothing of what it had before.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemDeletionTests(ServingCluster cluster)
{
    private sealed record LatestReply(string ModelVersion, List<LatestItemReply> Items);

    private sealed record LatestItemReply(string Id, string Title, DateTimeOffset AvailableFrom);

    private static string Cold() => $"/users/cold-{Guid.NewGuid():N}/recommendations";

    private async Task<string[]> Ids(string path) => (await cluster.GetJsonAsync<RecommendationsReply>(path)).Items.Select(i => i.Id).ToArray();

    private async Task<string[]> Latest(string query) => [.. (await cluster.GetJsonAsync<LatestReply>($"/latest?{query}")).Items.Select(i => i.Id)];

    private async Task<DeletedItemReply> Delete(string id)
    {
        using var response = await cluster.Http.DeleteAsync($"/items/{Uri.EscapeDataString(id)}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DeletedItemReply>())!;
    }

    private async Task<HttpStatusCode> StatusOf(string path)
    {
        using var response = await cluster.Http.GetAsync(path);
        return response.StatusCode;
    }

    private async Task Put(ItemReply item)
    {
        using var response = await cluster.Http.PutAsJsonAsync($"/items/{item.Id}", new { title = item.Title, text = item.Text, tags = item.Tags });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_deleted_item_leaves_the_catalogue_and_every_list_at_once_and_a_write_adds_it_again_as_new()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"deleted-{Guid.NewGuid():N}";
        var (single, bulk) = ($"{tag}-put", $"{tag}-bulk");
        var random = new Random(11);
        var embedding = Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var now = DateTimeOffset.UtcNow;
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{single}",
                   new { title = "Breaking", text = "A story", tags = new[] { tag }, embedding, availableFrom = now.AddHours(-1) }))
            Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = bulk, title = "Earlier", tags = new[] { tag }, embedding, availableFrom = now.AddHours(-2) } }))
            Assert.True(post.StatusCode == HttpStatusCode.OK, await post.Content.ReadAsStringAsync());
        try
        {
            Assert.Equal([single, bulk], await Latest($"k=10&tag={tag}"));
            Assert.Equal(2, (await Ids($"/users/5/recommendations?k=10&tag={tag}")).Length);
            Assert.Equal([single], (await cluster.GetJsonAsync<SimilarReply>($"/items/{bulk}/similar?k=10&tag={tag}")).Items.Select(i => i.Id));
            var export = await cluster.Http.GetStringAsync("/catalogue/export");
            Assert.Contains($"\"id\":\"{single}\"", export);
            Assert.Contains($"\"id\":\"{bulk}\"", export);
            Assert.Equal(2, (await ServingChecks.SessionList(cluster.Http, ["5"], $"k=10&tag={tag}")).Count);

            using (var counted = new Infrastructure.FrontEndMeasurements(cluster.FrontEndServices, "recommender.items.deleted"))
            {
                Assert.Equal(new DeletedItemReply(single, true), await Delete(single));
                Assert.Equal(new DeletedItemReply(bulk, true), await Delete(bulk));
                Assert.Equal(2, counted.Sum(("endpoint", "single")));
            }

            Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{single}"));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{bulk}"));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{single}/similar?k=3"));
            // Gone from the lists with the answer: the shards unlisted their rows before it.
            Assert.Empty(await Latest($"k=10&tag={tag}"));
            Assert.Empty(await Ids($"/users/5/recommendations?k=10&tag={tag}"));
            Assert.Equal([new(single, 1, "unknown")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=3&pin={single}:1")).UnplacedPins!);
            Assert.Empty(await ServingChecks.SessionList(cluster.Http, ["5"], $"k=10&tag={tag}"));
            export = await cluster.Http.GetStringAsync("/catalogue/export");
            Assert.DoesNotContain($"\"id\":\"{single}\"", export);
            Assert.DoesNotContain($"\"id\":\"{bulk}\"", export);
            // No longer in the catalogue, the items are refused in events, unless the client accepts them (events it
            // buffered before the deletion): each batch stored whole, the items named, users' histories keeping them.
            var user = "deleted-" + tag;
            using (var events = await cluster.Http.PostAsJsonAsync("/events", new { userId = user, itemId = bulk, type = "view" }))
                Assert.Equal(HttpStatusCode.BadRequest, events.StatusCode);
            Assert.Equal(0, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).TotalCount);
            var at = DateTimeOffset.UtcNow.AddMinutes(-1);
            foreach (var batch in new object[]
                     {
                         new { userId = user, itemId = bulk, type = "view", timestamp = at },
                         new[] { new { userId = user, itemId = "5", type = "view", timestamp = at.AddSeconds(1) }, new { userId = user + "-2", itemId = single, type = "view", timestamp = at } },
                     })
            {
                using var accepted = await cluster.Http.PostAsJsonAsync("/events?unknownItems=accept", batch);
                Assert.True(accepted.StatusCode == HttpStatusCode.OK, await accepted.Content.ReadAsStringAsync());
                Assert.Single((await accepted.Content.ReadFromJsonAsync<IngestReply>())!.NotInCatalogue!);
            }
            Assert.Equal([bulk, "5"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).Events.Select(e => e.ItemId));
            using (var bad = await cluster.Http.PostAsJsonAsync("/events?unknownItems=yes", new { userId = user, itemId = "5", type = "view" }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Equal(["unknownItems"], (await bad.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            using (await cluster.Http.DeleteAsync($"/users/{user}")) { }
            using (await cluster.Http.DeleteAsync($"/users/{user}-2")) { }

            // A repeat finds nothing to delete.
            Assert.Equal(new DeletedItemReply(single, false), await Delete(single));

            // Written again, an item is new: the embedding, text and time it had are gone with it.
            using (var again = await cluster.Http.PutAsJsonAsync($"/items/{single}", new { title = "Back", tags = new[] { tag } }))
                Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync());
            var back = await cluster.GetJsonAsync<ItemReply>($"/items/{single}");
            Assert.Equal(("Back", (string?)null, false, (DateTimeOffset?)null), (back.Title, back.Text, back.HasEmbedding, back.AvailableFrom));
            Assert.Empty(await Latest($"k=10&tag={tag}"));
            using (var withVector = await cluster.Http.PutAsJsonAsync($"/items/{single}", new { title = "Back", tags = new[] { tag }, embedding }))
                Assert.Equal(HttpStatusCode.OK, withVector.StatusCode);
            Assert.Equal([single], await Ids($"/users/5/recommendations?k=10&tag={tag}"));
        }
        finally
        {
            await Delete(single);
            await Delete(bulk);
        }
        Assert.Empty(await Ids($"/users/5/recommendations?k=10&tag={tag}"));
    }

    [Fact]
    public async Task A_deleted_trained_item_leaves_the_model_answers_the_popular_list_and_the_next_version_until_written_again()
    {
        var modelTop = (await Ids("/users/5/recommendations?k=10"))[0];
        var popularTop = (await Ids(Cold() + "?k=5")).First(id => id != modelTop);
        var anchor = (await Ids($"/items/{modelTop}/similar?k=1"))[0];
        Assert.Contains(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
        var model = await cluster.GetJsonAsync<ItemReply>($"/items/{modelTop}");
        var popular = await cluster.GetJsonAsync<ItemReply>($"/items/{popularTop}");
        Assert.NotNull(model.Placement?.DenseId);
        var before = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        try
        {
            Assert.True((await Delete(modelTop)).Deleted);
            Assert.True((await Delete(popularTop)).Deleted);

            var list = await Ids("/users/5/recommendations?k=10");
            Assert.DoesNotContain(modelTop, list);
            Assert.Equal(10, list.Length);
            Assert.DoesNotContain(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
            Assert.Equal([new(modelTop, 1, "unknown")], (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&pin={modelTop}:1")).UnplacedPins!);
            await ServingChecks.Eventually(async () => !(await Ids(Cold() + "?k=1000")).Contains(popularTop), "the deleted item leaves the popular list");

            // Another version trained on them: nothing carries them into it.
            var version = TestPackages.NewVersion("deleted");
            await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, 16));
            await TestPackages.Activate(cluster.Http, version);
            await ServingChecks.WaitForVersion(cluster, "5", version);
            Assert.DoesNotContain(modelTop, await Ids("/users/5/recommendations?k=1000"));
            Assert.DoesNotContain(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
            Assert.DoesNotContain(popularTop, await Ids(Cold() + "?k=1000"));
            Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{modelTop}"));
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
            await Put(model);
            await Put(popular);
        }
        await ServingChecks.WaitForVersion(cluster, "5", before);
        // Written again, each is back where the model ranks it.
        await ServingChecks.Eventually(async () => (await Ids("/users/5/recommendations?k=10"))[0] == modelTop, "the item written again is back at the top");
        await ServingChecks.Eventually(async () => (await Ids(Cold() + "?k=1000")).Contains(popularTop), "the item written again is back in the popular list");
        Assert.Contains(modelTop, await Ids($"/items/{anchor}/similar?k=1000"));
    }

    private sealed record DeletedItemsReply(int Count, int Deleted, List<DeletedItemReply> Items);

    [Fact]
    public async Task A_batch_deletes_each_item_it_names_and_a_bad_batch_deletes_nothing()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var embedding = Enumerable.Range(0, models.Models.Single(m => m.Version == models.Active).Dimension).Select(i => i % 2 == 0 ? 0.5f : -0.5f).ToArray();
        var tag = $"batch-deleted-{Guid.NewGuid():N}";
        var (single, bulk) = ($"{tag}-put", $"{tag}-bulk");
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{single}", new { title = "One", tags = new[] { tag }, embedding }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = bulk, title = "Two", tags = new[] { tag }, embedding } }))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(2, (await Ids($"/users/5/recommendations?k=10&tag={tag}")).Length);

        // Each refused whole, naming what is wrong; nothing is deleted.
        foreach (var (body, key) in new (string Body, string Key)[]
                 {
                     ("{}", "body"), ("[]", "body"), ($"[\"{single}\", 7]", "[1]"), ($"[\"{single}\", \"{single}\"]", "[1]"), ($"[\"{single}\", \" \"]", "[1]"),
                     ("[" + string.Join(",", Enumerable.Range(0, 1001).Select(i => $"\"{tag}-{i}\"")) + "]", "body"),
                 })
        {
            using var refused = await cluster.Http.PostAsync("/items/delete", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.True((await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.ContainsKey(key), body[..Math.Min(body.Length, 80)]);
        }
        Assert.Equal(HttpStatusCode.OK, await StatusOf($"/items/{single}"));
        Assert.Equal(2, (await Ids($"/users/5/recommendations?k=10&tag={tag}")).Length);

        using var counted = new Infrastructure.FrontEndMeasurements(cluster.FrontEndServices, "recommender.items.deleted");
        using var response = await cluster.Http.PostAsJsonAsync("/items/delete", new[] { bulk, $"{tag}-never", single });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<DeletedItemsReply>())!;
        Assert.Equal((3, 2), (answer.Count, answer.Deleted));
        Assert.Equal([new(bulk, true), new($"{tag}-never", false), new(single, true)], answer.Items);
        Assert.Equal(2, counted.Sum(("endpoint", "batch")));
        // A single deletion counts as one; one of an item not there, as none.
        using (await cluster.Http.DeleteAsync($"/items/{single}")) { }
        Assert.Equal(0, counted.Sum(("endpoint", "single")));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{single}"));
        Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{bulk}"));
        Assert.DoesNotContain(tag, await cluster.Http.GetStringAsync("/catalogue/export"));
        Assert.Empty(await Ids($"/users/5/recommendations?k=10&tag={tag}"));
    }

    [Fact]
    public async Task A_deleted_item_no_serving_version_was_trained_on_is_forgotten_and_a_rollback_to_one_trained_on_it_does_not_list_it()
    {
        // A trained item in the live popular list (three users' events) and one at the top of the seeded list: each silo's
        // copy of the live list holds the first's details, the catalogue's seeded list the second's.
        const string live = "13";
        var seeded = (await Ids(Cold() + "?k=5")).First(id => id != live);
        var users = Enumerable.Range(0, 3).Select(_ => $"forgotten-{Guid.NewGuid():N}").ToArray();
        await ServingChecks.Post(cluster.Http, [.. users.Select(u => new { userId = u, itemId = live, type = "view", timestamp = DateTimeOffset.UtcNow })]);
        await ServingChecks.Eventually(async () => (await Ids(Cold() + "?k=1000")).Contains(live), "the item's events put it in the live popular list");
        var items = new[] { await cluster.GetJsonAsync<ItemReply>($"/items/{live}"), await cluster.GetJsonAsync<ItemReply>($"/items/{seeded}") };
        var before = (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!;
        var without = TestPackages.NewVersion("without");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, without, 16,
            keep: movie => movie.ToString(System.Globalization.CultureInfo.InvariantCulture) is var id && id != live && id != seeded));
        try
        {
            foreach (var item in items) Assert.True((await Delete(item.Id)).Deleted);
            await ServingChecks.Eventually(async () => (await Ids(Cold() + "?k=1000")).Intersect([live, seeded]).Count() == 0, "the deleted items leave the popular list");
            // A version not trained on them: the catalogue forgets them. Back on a version trained on them, no list holds
            // them, the popular lists included (each silo reads its copy's details again after an activation).
            await TestPackages.Activate(cluster.Http, without);
            await ServingChecks.WaitForVersion(cluster, "5", without);
            await TestPackages.Activate(cluster.Http, before);
            await ServingChecks.WaitForVersion(cluster, "5", before);
            // Each silo reads its copy's details again after an activation, at its next rebuild (every 200 ms here).
            await Task.Delay(1000);
            for (var read = 0; read < 10; read++)
            {
                Assert.Empty((await Ids(Cold() + "?k=1000")).Intersect([live, seeded]));
                Assert.Empty((await Ids("/users/5/recommendations?k=1000&includeSeen=true")).Intersect([live, seeded]));
                await Task.Delay(150);
            }
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before);
            foreach (var item in items) await Put(item);
            foreach (var user in users) using (await cluster.Http.DeleteAsync($"/users/{user}")) { }
        }
        await ServingChecks.Eventually(async () => (await Ids("/users/5/recommendations?k=1000&includeSeen=true")).Contains(live), "the item written again is listed");
    }

    [Fact]
    public async Task A_session_may_accept_items_no_longer_in_the_catalogue_and_reads_them_as_a_stored_history_does()
    {
        const string trained = "11";
        var item = await cluster.GetJsonAsync<ItemReply>($"/items/{trained}");
        Assert.NotNull(item.Placement?.DenseId);
        async Task<SessionRecommendationsReply> Session(object body)
        {
            using var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", body);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!;
        }
        var before = await Session(new { items = new[] { "5", trained, "7" } });
        Assert.Null(before.NotInCatalogue);
        try
        {
            Assert.True((await Delete(trained)).Deleted);
            // By default an item not in the catalogue is refused, named by its place.
            using (var refused = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", new { items = new[] { "5", trained, "7" } }))
            {
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Equal(["items[1]"], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            // Accepted, such items are named, each once, and stay in the history: the model reads the deleted item it was
            // trained on as before (and passes over an id it never knew), so the list is the one from before the deletion.
            var accepted = await Session(new { items = new[] { "5", trained, "never-written-y", "7" }, unknownItems = "accept" });
            Assert.Equal([trained, "never-written-y"], accepted.NotInCatalogue!);
            Assert.Equal(before.Items.Select(i => i.Id), accepted.Items.Select(i => i.Id));
            Assert.NotEqual(before.Items.Select(i => i.Id), (await Session(new { items = new[] { "5", "7" } })).Items.Select(i => i.Id));
            Assert.Null((await Session(new { items = new[] { "5" }, unknownItems = "refuse" })).NotInCatalogue);

            using var bad = await cluster.Http.PostAsJsonAsync("/recommendations?k=10", new { items = new[] { "5" }, unknownItems = "skip" });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal(["unknownItems"], (await bad.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
        }
        finally
        {
            await Put(item);
        }
    }

    /// <summary>
    /// A batch write (POST /items) and a deletion of one item that cross: each stores before it tells the catalogue, so
    /// their catalogue steps may come in either order. The steps are taken here one by one, in the orders that cross,
    /// and the item ends listed exactly when its details are still stored.
    /// </summary>
    [Fact]
    public async Task A_write_and_a_deletion_of_one_item_that_cross_leave_it_listed_exactly_when_it_is_stored()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var tag = $"crossed-{Guid.NewGuid():N}";
        var vector = Enumerable.Range(0, dimension).Select(i => i % 3 == 0 ? 0.4f : -0.3f).ToArray();
        var bytes = new byte[vector.Length * sizeof(float)];
        Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
        var grains = cluster.Cluster.Client;
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        ItemDetails Details(string id) => new(id, "Crossed " + id, null, [tag], bytes);
        IItemBucketGrain Bucket(string id) => grains.GetGrain<IItemBucketGrain>(ItemBuckets.Of(id));
        async Task Post(string id)
        {
            using var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id, title = "Crossed " + id, tags = new[] { tag }, embedding = vector } });
            Assert.True(post.StatusCode == HttpStatusCode.OK, await post.Content.ReadAsStringAsync());
        }
        var (writtenFirst, deletedFirst, putMeanwhile) = ($"{tag}-a", $"{tag}-b", $"{tag}-c");
        try
        {
            // The write stores the item, the deletion runs whole, then the write's catalogue steps come: the item stays
            // erased and unlisted (a hidden flag is not kept for it either).
            await Bucket(writtenFirst).ImportKeepingEmbeddings(new([Details(writtenFirst)]));
            Assert.True((await Delete(writtenFirst)).Deleted);
            await catalogue.SetHidden(new([writtenFirst]), new([]));
            Assert.DoesNotContain(writtenFirst, (await catalogue.GetSnapshotSince(-1)).Hidden!);
            await catalogue.SetHidden(new([]), new([writtenFirst]));
            Assert.Null((await catalogue.PlaceItems(new([ShardEntry.Written(Details(writtenFirst))])))[0]);
            Assert.Equal(HttpStatusCode.NotFound, await StatusOf($"/items/{writtenFirst}"));

            // The deletion erases the item, a whole batch write stores and lists it again, then the deletion's catalogue
            // step comes: the item stays stored and listed.
            await Post(deletedFirst);
            await Bucket(deletedFirst).Remove(new([deletedFirst]));
            await grains.GetGrain<IItemGrain>(deletedFirst).EraseOwnDetails();
            await Post(deletedFirst);
            await catalogue.RemoveItems(new([deletedFirst]));
            Assert.Equal(HttpStatusCode.OK, await StatusOf($"/items/{deletedFirst}"));

            // A batch deletion erases the item, a PUT writes it again, then the batch's catalogue step comes: stored and listed.
            await Post(putMeanwhile);
            await Bucket(putMeanwhile).Remove(new([putMeanwhile]));
            await grains.GetGrain<IItemGrain>(putMeanwhile).EraseOwnDetails();
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{putMeanwhile}", new { title = "Put", tags = new[] { tag }, embedding = vector }))
                Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
            await catalogue.RemoveItems(new([putMeanwhile]));
            Assert.Equal(HttpStatusCode.OK, await StatusOf($"/items/{putMeanwhile}"));

            var listed = await Ids($"/users/5/recommendations?k=10&tag={tag}");
            Assert.Equal([deletedFirst, putMeanwhile], listed.Order(StringComparer.Ordinal));
            Assert.Equal([deletedFirst, putMeanwhile], (await ServingChecks.SessionList(cluster.Http, ["5"], $"k=10&tag={tag}")).Select(i => i.Id).Order(StringComparer.Ordinal));
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { writtenFirst, deletedFirst, putMeanwhile })) { }
        }
        Assert.Empty(await Ids($"/users/5/recommendations?k=10&tag={tag}"));
    }

    [Fact]
    public async Task Another_front_end_refuses_events_naming_a_deleted_item_once_its_memory_of_the_id_lapses()
    {
        var tag = $"lapsed-{Guid.NewGuid():N}";
        var user = "lapsed-" + tag;
        var (brief, kept) = (await cluster.StartFrontEndAsync(new Dictionary<string, string?> { ["Recommender:KnownItemLifetime"] = "00:00:01" }),
            await cluster.StartFrontEndAsync(new Dictionary<string, string?>()));
        using var briefHttp = new HttpClient { BaseAddress = brief.BaseAddress };
        using var keptHttp = new HttpClient { BaseAddress = kept.BaseAddress };
        async Task<HttpStatusCode> Event(HttpClient http, string item)
        {
            using var response = await http.PostAsJsonAsync("/events", new { userId = user, itemId = item, type = "view" });
            return response.StatusCode;
        }
        try
        {
            using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = tag, title = "Brief", tags = new[] { tag } } }))
                Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            // Each front end finds the item once and keeps its id.
            Assert.Equal(HttpStatusCode.OK, await Event(briefHttp, tag));
            Assert.Equal(HttpStatusCode.OK, await Event(keptHttp, tag));
            Assert.True((await Delete(tag)).Deleted);
            Assert.Equal(HttpStatusCode.BadRequest, await Event(cluster.Http, tag));
            // The other front ends still take it while they remember it; one whose memory lapsed asks again and refuses it.
            Assert.Equal(HttpStatusCode.OK, await Event(keptHttp, tag));
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.Equal(HttpStatusCode.BadRequest, await Event(briefHttp, tag));
            Assert.Equal(3, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).TotalCount);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/users/{user}")) { }
            foreach (var (api, _) in new[] { brief, kept })
            {
                await api.StopAsync();
                await api.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Deleting_an_item_that_is_not_there_answers_false_and_a_bad_id_is_refused()
    {
        Assert.Equal(new DeletedItemReply("never-written-x", false), await Delete("never-written-x"));
        using var blank = await cluster.Http.DeleteAsync("/items/%20");
        Assert.Equal(HttpStatusCode.BadRequest, blank.StatusCode);
        Assert.NotNull((await blank.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["id"]);
    }
}
