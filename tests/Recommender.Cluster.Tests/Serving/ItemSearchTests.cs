using System.Net;
using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>GET /items?title=TEXT: the active version's items whose title holds the text, hidden ones too, closest first.</summary>
[Collection(ServingCollection.Name)]
public sealed class ItemSearchTests(ServingCluster cluster)
{
    private sealed record FoundItemsReply(string ModelVersion, List<FoundItemReply> Items);

    private sealed record FoundItemReply(string Id, string Title);

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
}
