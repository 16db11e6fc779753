using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Two writes of one item that cross: each stores the item, then tells the catalogue (its hidden flag, then its
/// placement), so the older write's steps may come last. The steps are taken here one by one in that order, and the
/// catalogue ends as the newer stored write left the item: its title, tags and hidden flag.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemWriteCrossingTests(ServingCluster cluster)
{
    [Fact]
    public async Task The_older_writes_late_catalogue_steps_leave_the_item_listed_as_the_newer_write_stored_it()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var dimension = models.Models.Single(m => m.Version == models.Active).Dimension;
        var word = $"x{Guid.NewGuid():N}"[..12];
        var (oldTag, newTag) = ($"{word}-old", $"{word}-new");
        var vector = Enumerable.Range(0, dimension).Select(i => i % 3 == 0 ? 0.4f : -0.3f).ToArray();
        var bytes = new byte[vector.Length * sizeof(float)];
        Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
        var grains = cluster.Cluster.Client;
        var catalogue = grains.GetGrain<ICatalogueGrain>(0);
        ItemDetails Older(string id) => new(id, $"Old {id}", null, [oldTag], bytes);
        IItemBucketGrain Bucket(string id) => grains.GetGrain<IItemBucketGrain>(ItemBuckets.Of(id));
        async Task LateSteps(string id)
        {
            await catalogue.SetHidden(new([]), new([id]));
            await catalogue.PlaceItems(new([ShardEntry.Written(Older(id))]));
        }
        async Task<string[]> Listed(string tag) =>
            [.. (await cluster.GetJsonAsync<RecommendationsReply>($"/users/5/recommendations?k=10&tag={tag}")).Items.Select(i => i.Id).Order(StringComparer.Ordinal)];

        var (byPut, byBatch, hiddenByPut) = ($"{word}-put", $"{word}-batch", $"{word}-hidden");
        try
        {
            // A batch stores the older details, a PUT then runs whole, then the batch's steps come.
            await Bucket(byPut).ImportKeepingEmbeddings(new([Older(byPut)]));
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{byPut}", new { title = $"New {byPut}", tags = new[] { newTag }, embedding = vector }))
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            await LateSteps(byPut);

            // The same with another batch in place of the PUT.
            await Bucket(byBatch).ImportKeepingEmbeddings(new([Older(byBatch)]));
            using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id = byBatch, title = $"New {byBatch}", tags = new[] { newTag }, embedding = vector } }))
                Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            await LateSteps(byBatch);

            // A batch stores the older, visible details; a PUT and a PATCH then place the item and hide it (it keeps its
            // row); then the batch's steps come.
            await Bucket(hiddenByPut).ImportKeepingEmbeddings(new([Older(hiddenByPut)]));
            using (var put = await cluster.Http.PutAsJsonAsync($"/items/{hiddenByPut}", new { title = $"New {hiddenByPut}", tags = new[] { newTag }, embedding = vector }))
                Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            using (var hide = await cluster.Http.PatchAsJsonAsync($"/items/{hiddenByPut}", new { hidden = true }))
                Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
            await LateSteps(hiddenByPut);

            Assert.Contains(hiddenByPut, (await catalogue.GetSnapshotSince(-1)).Hidden!);
            // Every silo's copy of the hidden set follows within its refresh.
            await ServingChecks.Eventually(async () => (await Listed(newTag)).SequenceEqual([byBatch, byPut]), "the newer writes listed");
            Assert.Empty(await Listed(oldTag));
            // The shards' rows carry the newer titles.
            var found = await cluster.GetJsonAsync<FoundItems>($"/items?title={word}");
            Assert.Equal([$"New {byBatch}", $"New {hiddenByPut}", $"New {byPut}"], found.Items.Select(i => i.Title).Order(StringComparer.Ordinal));
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { byPut, byBatch, hiddenByPut })) { }
        }
    }

    private sealed record FoundItems(string ModelVersion, List<FoundItem> Items);

    private sealed record FoundItem(string Id, string Title);
}
