using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// Looking items up: GET /items?title=TEXT, the active version's items whose title holds the text, hidden ones too,
/// closest first; POST /items/lookup, a batch of ids read as GET /items/{id} reads one.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemSearchTests(ServingCluster cluster)
{
    private sealed record FoundItemsReply(string ModelVersion, List<FoundItemReply> Items);

    private sealed record FoundItemReply(string Id, string Title);

    private sealed record LookupReply(int Found, List<ItemReply> Items, List<string> NotInCatalogue);

    private async Task<string[]> Found(string query) => [.. (await cluster.GetJsonAsync<FoundItemsReply>($"/items?{query}")).Items.Select(i => i.Id)];

    [Fact]
    public async Task Items_are_found_by_a_part_of_their_title_equal_first_then_starting_then_holding_it()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        var embedding = Enumerable.Range(0, models.Models.Single(m => m.Version == models.Active).Dimension).Select(i => i % 2 == 0 ? 0.1f : -0.4f).ToArray();
        var word = $"w{Guid.NewGuid():N}"[..12];
        var items = new (string Id, string Title)[]
        {
            ($"{word}-holding", $"The {word} Lagoon"), ($"{word}-long", $"{word} Lagoon, Again"), ($"{word}-short", $"{word} Lagoon"),
            ($"{word}-equal", word.ToUpperInvariant()), ($"{word}-hidden", $"{word} Hidden"), ($"{word}-deleted", $"{word} Gone"),
        };
        using (var post = await cluster.Http.PostAsJsonAsync("/items", items.Select(i => new { id = i.Id, title = i.Title, tags = new[] { word }, embedding })))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        try
        {
            // Hidden once placed, an item keeps its row, and is found; deleted, it is not.
            using (var hide = await cluster.Http.PutAsJsonAsync($"/items/{word}-hidden", new { title = $"{word} Hidden", tags = new[] { word }, hidden = true }))
                Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
            using (await cluster.Http.DeleteAsync($"/items/{word}-deleted")) { }
            // Equal (ignoring case), then starting with it (the hidden one too; the shorter title first, then the smaller
            // id), then holding it.
            Assert.Equal([$"{word}-equal", $"{word}-hidden", $"{word}-short", $"{word}-long", $"{word}-holding"], await Found($"title={word}"));
            Assert.Equal([$"{word}-short", $"{word}-long", $"{word}-holding"], await Found($"title={Uri.EscapeDataString($" {word} lagoon".Trim())}"));
            Assert.Equal([$"{word}-equal", $"{word}-hidden"], await Found($"title={word}&k=2"));
            Assert.Equal(models.Active, (await cluster.GetJsonAsync<FoundItemsReply>($"/items?title={word}")).ModelVersion);
            Assert.Empty(await Found($"title={word}-nothing"));

            foreach (var (query, field) in new[] { ("", "title"), ("title=", "title"), ("title=%20%20", "title"), ($"title={new string('x', 201)}", "title"), ($"title={word}&k=0", "k"), ($"title={word}&limit=3", "limit") })
            {
                using var refused = await cluster.Http.GetAsync($"/items?{query}");
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Equal([field], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", items.Select(i => i.Id).ToArray())) { }
        }
    }

    [Fact]
    public async Task A_batch_of_ids_is_read_as_each_would_be_alone_in_the_order_sent_with_the_missing_ones_named()
    {
        var word = $"l{Guid.NewGuid():N}"[..12];
        var ids = new[] { $"{word}-a", $"{word}-b", $"{word}-hidden", $"{word}-deleted" };
        using (var post = await cluster.Http.PostAsJsonAsync("/items", ids.Select(id => new { id, title = $"Title of {id}", tags = new[] { word } })))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        try
        {
            using (var hide = await cluster.Http.PutAsJsonAsync($"/items/{word}-hidden", new { title = $"Title of {word}-hidden", tags = new[] { word }, hidden = true }))
                Assert.Equal(HttpStatusCode.OK, hide.StatusCode);
            using (await cluster.Http.DeleteAsync($"/items/{word}-deleted")) { }

            // A catalogue item from the seed, a new one, ids never written and a deleted one, in an order of their own.
            string[] asked = [$"{word}-b", $"{word}-never", "5", $"{word}-deleted", $"{word}-hidden", $"{word}-a"];
            using var response = await cluster.Http.PostAsJsonAsync("/items/lookup", asked);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var lookup = (await response.Content.ReadFromJsonAsync<LookupReply>())!;
            Assert.Equal(4, lookup.Found);
            Assert.Equal([$"{word}-b", "5", $"{word}-hidden", $"{word}-a"], lookup.Items.Select(i => i.Id));
            Assert.Equal([$"{word}-never", $"{word}-deleted"], lookup.NotInCatalogue);
            foreach (var item in lookup.Items)
            {
                var alone = await cluster.GetJsonAsync<ItemReply>($"/items/{item.Id}");
                Assert.Equal((alone.Title, alone.Hidden, alone.Recommendable, alone.Placement, string.Join(",", alone.Tags)),
                    (item.Title, item.Hidden, item.Recommendable, item.Placement, string.Join(",", item.Tags)));
            }
            Assert.True(lookup.Items.Single(i => i.Id == $"{word}-hidden").Hidden);
            Assert.False(lookup.Items.Single(i => i.Id == $"{word}-hidden").Recommendable);

            foreach (var (body, field) in new[]
                     {
                         ("{}", "body"), ("[]", "body"), ($"[\"{word}-a\",\"{word}-a\"]", "[1]"), ("[5]", "[0]"), ("[\"\"]", "[0]"),
                         ($"[{string.Join(",", Enumerable.Range(0, 1001).Select(i => $"\"{i}\""))}]", "body"),
                     })
            {
                using var refused = await cluster.Http.PostAsync("/items/lookup", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Equal([field], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", ids)) { }
        }
    }
}
