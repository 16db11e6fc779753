using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// PATCH /items/{id}: a JSON merge patch of the item, each field given replacing the item's and the rest kept, read and
/// written in one step of the item's grain; refusals name the field and write nothing.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemChangeTests(ServingCluster cluster)
{
    private static readonly DateTimeOffset From = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Until = new(2099, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private Task<HttpResponseMessage> Patch(string id, string json, string mediaType = "application/merge-patch+json") =>
        cluster.Http.PatchAsync($"/items/{Uri.EscapeDataString(id)}", new StringContent(json, Encoding.UTF8, mediaType));

    private async Task<ItemReply> Changed(string id, string json)
    {
        using var response = await Patch(id, json);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{json}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<ItemReply>())!;
    }

    private Task<ItemReply> Read(string id) => cluster.GetJsonAsync<ItemReply>($"/items/{Uri.EscapeDataString(id)}");

    private async Task<float[]> Embedding()
    {
        var models = await cluster.GetJsonAsync<ModelsReply>("/models");
        return [.. Enumerable.Range(0, models.Models.Single(m => m.Version == models.Active).Dimension).Select(i => i % 3 == 0 ? 0.3f : -0.2f)];
    }

    [Fact]
    public async Task A_change_replaces_the_fields_it_gives_keeps_the_others_and_a_null_removes_one()
    {
        var id = $"change-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Before", text = "Drama", tags = new[] { "a", "b" }, embedding = await Embedding(), availableFrom = From, expiresAt = Until }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            var written = await Read(id);
            Assert.True(written.Recommendable);

            // One field: the rest stay as written, the given embedding and the item's row included.
            var retitled = await Changed(id, """{"title":"After"}""");
            Assert.Equal(("After", "Drama", "a,b", From, Until, true, true), (retitled.Title, retitled.Text, string.Join(",", retitled.Tags), retitled.AvailableFrom, retitled.ExpiresAt, retitled.HasEmbedding, retitled.Recommendable));
            Assert.Equal(written.Placement, retitled.Placement);
            Assert.Equal("After", (await Read(id)).Title);

            // Nulls remove the optional fields; tags are replaced whole.
            var trimmed = await Changed(id, """{"text":null,"expiresAt":null,"tags":["c"]}""");
            Assert.Equal(("After", (string?)null, "c", From, (DateTimeOffset?)null), (trimmed.Title, trimmed.Text, string.Join(",", trimmed.Tags), trimmed.AvailableFrom, trimmed.ExpiresAt));
            Assert.Empty((await Changed(id, """{"tags":null}""")).Tags);

            // Hidden and shown again (null is false), keeping its row; application/json is taken too.
            var hidden = await Changed(id, """{"hidden":true}""");
            Assert.Equal((true, false, written.Placement), (hidden.Hidden, hidden.Recommendable, hidden.Placement));
            using (var shown = await Patch(id, """{"hidden":null}""", "application/json"))
                Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
            var final = await Read(id);
            Assert.Equal((false, true, "After", From), (final.Hidden, final.Recommendable, final.Title, final.AvailableFrom));
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/items/{id}")) { }
        }
    }

    [Fact]
    public async Task A_bulk_loaded_item_changed_keeps_its_embedding_and_row_and_reads_as_changed()
    {
        var id = $"change-bulk-{Guid.NewGuid():N}";
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id, title = "Bulk", text = "Drama", tags = new[] { "bulk" }, embedding = await Embedding() } }))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        try
        {
            var loaded = await Read(id);
            var changed = await Changed(id, """{"title":"Bulk, changed"}""");
            Assert.Equal(("Bulk, changed", "Drama", "bulk", true, true, loaded.Placement), (changed.Title, changed.Text, changed.Tags.Single(), changed.HasEmbedding, changed.Recommendable, changed.Placement));
            Assert.Equal("Bulk, changed", (await Read(id)).Title);
            // The catalogue's row carries the new title.
            var found = await cluster.GetJsonAsync<FoundItemsReply>($"/items?title={Uri.EscapeDataString("Bulk, changed")}");
            Assert.Contains(found.Items, i => i.Id == id && i.Title == "Bulk, changed");
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/items/{id}")) { }
        }
    }

    private sealed record FoundItemsReply(string ModelVersion, List<FoundItemReply> Items);

    private sealed record FoundItemReply(string Id, string Title);

    [Fact]
    public async Task A_refused_change_names_its_field_and_writes_nothing()
    {
        var id = $"change-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Kept", text = "Drama", tags = new[] { "a" }, availableFrom = From, expiresAt = Until }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            var before = await Read(id);
            foreach (var (body, field) in new[]
                     {
                         ("{}", "body"), ("[]", "body"), ("\"title\"", "body"), ("""{"title":null}""", "title"), ("""{"title":""}""", "title"),
                         ("""{"embedding":null}""", "embedding"), ("""{"embedding":[1,2]}""", "embedding"), ("""{"colour":"red","title":"X"}""", "colour"),
                         ("""{"id":"another","title":"X"}""", "id"), ("""{"hidden":"yes"}""", "hidden"), ("""{"tags":"a"}""", "tags"),
                         ("""{"availableFrom":"tomorrow"}""", "availableFrom"),
                         // The window is checked as the change would leave it: a start after the stored end, both ends given the wrong way.
                         ("""{"availableFrom":"2100-01-01T00:00:00Z","title":"X"}""", "expiresAt"),
                         ("""{"availableFrom":"2030-01-01T00:00:00Z","expiresAt":"2029-01-01T00:00:00Z"}""", "expiresAt"),
                     })
            {
                using var refused = await Patch(id, body);
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body}: {(int)refused.StatusCode}");
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.Equal([field], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            using (var text = await Patch(id, """{"title":"X"}""", "text/plain"))
                Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
            var after = await Read(id);
            Assert.Equal((before.Title, before.Text, string.Join(",", before.Tags), before.AvailableFrom, before.ExpiresAt), (after.Title, after.Text, string.Join(",", after.Tags), after.AvailableFrom, after.ExpiresAt));

            // An item not in the catalogue is not created by a change.
            var missing = $"change-missing-{Guid.NewGuid():N}";
            using (var unknown = await Patch(missing, """{"title":"New"}"""))
            {
                Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
                Assert.Contains("not in the catalogue", (await unknown.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["id"][0]);
            }
            using (var absent = await cluster.Http.GetAsync($"/items/{missing}"))
                Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/items/{id}")) { }
        }
    }

    private sealed record ChangesReply(int Count, int Changed, List<ChangeResultReply> Items);

    private sealed record ChangeResultReply(string Id, string Outcome, ItemReply? Item, string? Reason);

    [Fact]
    public async Task A_batch_of_changes_is_checked_whole_then_each_item_changed_with_its_outcome_in_the_order_sent()
    {
        var word = $"changes-{Guid.NewGuid():N}";
        var (hide, retag, windowed, missing) = ($"{word}-hide", $"{word}-retag", $"{word}-windowed", $"{word}-missing");
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { hide, retag, windowed }.Select(id => new { id, title = $"Title {id}", tags = new[] { word }, expiresAt = Until })))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Task<HttpResponseMessage> Send(string json) =>
            cluster.Http.PatchAsync("/items", new StringContent(json, Encoding.UTF8, "application/merge-patch+json"));
        try
        {
            // Refused whole, naming the element and field: nothing of the valid elements is written.
            foreach (var (body, field) in new[]
                     {
                         ("[]", "body"), ("{}", "body"), ($$"""[{"id":"{{hide}}","hidden":true},{"title":"X"}]""", "[1].id"),
                         ($$"""[{"id":"{{hide}}","hidden":true},{"id":"{{hide}}","title":"X"}]""", "[1].id"),
                         ($$"""[{"id":"{{hide}}","hidden":true},{"id":"{{retag}}"}]""", "[1]"), ($$"""[{"id":"{{hide}}","hidden":true},5]""", "[1]"),
                         ($$"""[{"id":"{{hide}}","hidden":true},{"id":"{{retag}}","title":null}]""", "[1].title"),
                         ($$"""[{"id":"{{hide}}","hidden":true},{"id":"{{retag}}","tags":"a"}]""", "[1].tags"),
                         ($"[{string.Join(",", Enumerable.Range(0, 501).Select(i => $$"""{"id":"{{word}}-{{i}}","hidden":true}"""))}]", "body"),
                     })
            {
                using var refused = await Send(body);
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body[..Math.Min(80, body.Length)]}: {(int)refused.StatusCode}");
                Assert.Equal([field], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            Assert.False((await Read(hide)).Hidden);

            using var response = await Send($$"""
                [{"id":"{{hide}}","hidden":true}, {"id":"{{missing}}","title":"Nowhere"}, {"id":"{{windowed}}","availableFrom":"2100-01-01T00:00:00Z"},
                 {"id":"{{retag}}","tags":["{{word}}","sale"],"text":"On sale"}]
                """);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var changes = (await response.Content.ReadFromJsonAsync<ChangesReply>())!;
            Assert.Equal((4, 2), (changes.Count, changes.Changed));
            Assert.Equal([(hide, "changed"), (missing, "notInCatalogue"), (windowed, "refused"), (retag, "changed")], changes.Items.Select(i => (i.Id, i.Outcome)));
            Assert.Contains("must be later than 'availableFrom'", changes.Items[2].Reason);
            Assert.True(changes.Items[0].Item!.Hidden);
            Assert.Equal(("On sale", $"{word},sale"), (changes.Items[3].Item!.Text, string.Join(",", changes.Items[3].Item!.Tags)));

            // As read back: the refused and missing items untouched, nothing created.
            Assert.True((await Read(hide)).Hidden);
            Assert.Equal(("On sale", $"Title {retag}"), ((await Read(retag)).Text, (await Read(retag)).Title));
            Assert.Null((await Read(windowed)).AvailableFrom);
            using (var absent = await cluster.Http.GetAsync($"/items/{missing}"))
                Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { hide, retag, windowed })) { }
        }
    }

    [Fact]
    public async Task Changes_of_different_fields_sent_at_once_all_take_effect()
    {
        var id = $"change-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Start", tags = new[] { "a" } }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        try
        {
            // Each change reads the item and writes it whole in one step: none writes back a field as it was before
            // another change of it, as a client reading the item and sending it back with PUT would.
            for (var round = 0; round < 3; round++)
            {
                var (title, text, tag) = ($"Title {round}", $"Text {round}", $"tag-{round}");
                var from = From.AddDays(round);
                var until = Until.AddDays(round);
                var changes = await Task.WhenAll(
                    Patch(id, $$"""{"title":"{{title}}"}"""), Patch(id, $$"""{"text":"{{text}}"}"""), Patch(id, $$"""{"tags":["{{tag}}"]}"""),
                    Patch(id, $$"""{"availableFrom":"{{from:O}}"}"""), Patch(id, $$"""{"expiresAt":"{{until:O}}"}"""), Patch(id, $$"""{"hidden":{{(round % 2 == 1 ? "true" : "false")}}}"""));
                foreach (var response in changes)
                    using (response)
                        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var item = await Read(id);
                Assert.Equal((title, text, tag, from, until, round % 2 == 1), (item.Title, item.Text, item.Tags.Single(), item.AvailableFrom, item.ExpiresAt, item.Hidden));
            }
        }
        finally
        {
            using (await cluster.Http.DeleteAsync($"/items/{id}")) { }
        }
    }
}
