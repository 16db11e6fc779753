using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// An item's ETag is its version: GET, PUT and PATCH answer it, every write moves it on, and PUT, PATCH and DELETE
/// sent with If-Match are made only while the item is still at that version (If-None-Match: * on PUT: only while it
/// is not stored); a refused write writes nothing and answers 412 naming the header and the version the item is at.
/// </summary>
[Collection(ServingCollection.Name)]
public sealed class ItemPreconditionTests(ServingCluster cluster)
{
    private static string Path(string id) => $"/items/{Uri.EscapeDataString(id)}";

    private async Task<HttpResponseMessage> Send(HttpMethod method, string id, string? json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, Path(id));
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, method == HttpMethod.Patch ? "application/merge-patch+json" : "application/json");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await cluster.Http.SendAsync(request);
    }

    /// <summary>The item as GET answers it, with its ETag.</summary>
    private async Task<(ItemReply Item, string ETag)> Read(string id)
    {
        using var response = await cluster.Http.GetAsync(Path(id));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return ((await response.Content.ReadFromJsonAsync<ItemReply>())!, Tag(response));
    }

    private static string Tag(HttpResponseMessage response)
    {
        var tag = response.Headers.ETag;
        Assert.NotNull(tag);
        Assert.False(tag.IsWeak);
        return tag.Tag;
    }

    private static async Task<string> Failed(HttpResponseMessage response, string header)
    {
        Assert.True(response.StatusCode == HttpStatusCode.PreconditionFailed, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        Assert.Equal([header], problem.Errors!.Keys);
        return problem.Errors[header][0];
    }

    private async Task Put(string id, string title)
    {
        using var put = await cluster.Http.PutAsJsonAsync(Path(id), new { title, text = "Drama", tags = new[] { "a" } });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
    }

    [Fact]
    public async Task Every_write_moves_the_tag_on_and_a_read_naming_the_current_one_is_answered_304()
    {
        var id = $"etag-{Guid.NewGuid():N}";
        try
        {
            using var created = await Send(HttpMethod.Put, id, """{"title":"One","tags":["a"]}""");
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            var first = Tag(created);
            Assert.Equal(first, (await Read(id)).ETag);

            using var changed = await Send(HttpMethod.Patch, id, """{"title":"Two"}""");
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            var second = Tag(changed);
            Assert.NotEqual(first, second);
            Assert.Equal(second, (await Read(id)).ETag);

            // A read naming the current tag has nothing new: 304, no body, the tag again. An old tag reads the item.
            using (var same = await Send(HttpMethod.Get, id, null, ("If-None-Match", second)))
            {
                Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);
                Assert.Equal(second, Tag(same));
                Assert.Empty(await same.Content.ReadAsByteArrayAsync());
            }
            using (var old = await Send(HttpMethod.Get, id, null, ("If-None-Match", $"{first}, W/{second}")))
            {
                // Reads compare weakly: W/"second" names the current version too.
                Assert.Equal(HttpStatusCode.NotModified, old.StatusCode);
            }
            using (var older = await Send(HttpMethod.Get, id, null, ("If-None-Match", first)))
            {
                Assert.Equal(HttpStatusCode.OK, older.StatusCode);
                Assert.Equal("Two", (await older.Content.ReadFromJsonAsync<ItemReply>())!.Title);
            }

            // A bulk load of the item moves it on too, and the item read from its bulk copy carries the new tag.
            using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { new { id, title = "Three", tags = new[] { "a" } } }))
                Assert.Equal(HttpStatusCode.OK, post.StatusCode);
            var (bulk, third) = await Read(id);
            Assert.Equal("Three", bulk.Title);
            Assert.NotEqual(second, third);
            using (var stale = await Send(HttpMethod.Patch, id, """{"title":"Four"}""", ("If-Match", second)))
                await Failed(stale, "If-Match");
            using (var current = await Send(HttpMethod.Patch, id, """{"title":"Four"}""", ("If-Match", third)))
                Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(Path(id))) { }
        }
    }

    [Fact]
    public async Task A_change_against_an_older_version_is_refused_and_writes_nothing()
    {
        var id = $"etag-{Guid.NewGuid():N}";
        await Put(id, "Read by both");
        try
        {
            var (_, read) = await Read(id);
            // Another client changes the item after both read it.
            using (var other = await Send(HttpMethod.Patch, id, """{"text":"Changed by the other"}""", ("If-Match", read)))
                Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            var (afterOther, now) = await Read(id);

            foreach (var (method, json) in new[] { (HttpMethod.Patch, """{"title":"Mine"}"""), (HttpMethod.Put, """{"title":"Mine","tags":["a"]}"""), (HttpMethod.Delete, null) })
            {
                using var refused = await Send(method, id, json, ("If-Match", read));
                var message = await Failed(refused, "If-Match");
                Assert.Contains($"version {read}", message);
                Assert.Contains($"it is at version {now}", message);
                Assert.Equal(now, Tag(refused));
            }
            var (kept, still) = await Read(id);
            Assert.Equal((afterOther.Title, afterOther.Text, now), (kept.Title, kept.Text, still));

            // Against what it holds now the change is made; * asks only that it exist.
            using (var mine = await Send(HttpMethod.Patch, id, """{"title":"Mine"}""", ("If-Match", $"\"1\", {now}")))
                Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
            using (var any = await Send(HttpMethod.Put, id, """{"title":"Mine again","tags":["a"]}""", ("If-Match", "*")))
                Assert.Equal(HttpStatusCode.OK, any.StatusCode);
            var (final, last) = await Read(id);
            Assert.Equal("Mine again", final.Title);

            // A weak tag never matches a write (If-Match compares strongly), even of the current version.
            using (var weak = await Send(HttpMethod.Patch, id, """{"title":"Weak"}""", ("If-Match", $"W/{last}")))
                Assert.Contains("names no version", await Failed(weak, "If-Match"));

            // A deletion against the current version deletes it.
            using var deleted = await Send(HttpMethod.Delete, id, null, ("If-Match", last));
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
            Assert.True((await deleted.Content.ReadFromJsonAsync<DeletedReply>())!.Deleted);
            using var gone = await cluster.Http.GetAsync(Path(id));
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(Path(id))) { }
        }
    }

    private sealed record DeletedReply(string Id, bool Deleted);

    [Fact]
    public async Task Create_only_and_must_exist_hold_against_the_catalogue()
    {
        var id = $"etag-{Guid.NewGuid():N}";
        try
        {
            // Not stored: If-Match (a tag or *) refuses to create it; PATCH answers 404 as without the header.
            using (var tagged = await Send(HttpMethod.Put, id, """{"title":"X","tags":[]}""", ("If-Match", "\"12345\"")))
                Assert.Contains("not in the catalogue", await Failed(tagged, "If-Match"));
            using (var any = await Send(HttpMethod.Put, id, """{"title":"X","tags":[]}""", ("If-Match", "*")))
                Assert.Contains("exist", await Failed(any, "If-Match"));
            using (var patch = await Send(HttpMethod.Patch, id, """{"title":"X"}""", ("If-Match", "*")))
                Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
            using (var absent = await cluster.Http.GetAsync(Path(id)))
                Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);

            // If-None-Match: * creates it once; a second creation is refused and writes nothing.
            using (var create = await Send(HttpMethod.Put, id, """{"title":"First","tags":[]}""", ("If-None-Match", "*")))
                Assert.Equal(HttpStatusCode.OK, create.StatusCode);
            var (_, created) = await Read(id);
            using (var again = await Send(HttpMethod.Put, id, """{"title":"Second","tags":[]}""", ("If-None-Match", "*")))
            {
                Assert.Contains("not exist yet", await Failed(again, "If-None-Match"));
                Assert.Equal(created, Tag(again));
            }
            var (item, tag) = await Read(id);
            Assert.Equal(("First", created), (item.Title, tag));

            // A deletion of an item not stored has nothing to refuse: deleted=false, whatever it named.
            using (await cluster.Http.DeleteAsync(Path(id))) { }
            using var repeat = await Send(HttpMethod.Delete, id, null, ("If-Match", created));
            Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
            Assert.False((await repeat.Content.ReadFromJsonAsync<DeletedReply>())!.Deleted);
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(Path(id))) { }
        }
    }

    [Fact]
    public async Task A_conditional_write_sent_again_finds_itself_made_and_of_two_at_once_one_is_made()
    {
        var id = $"etag-{Guid.NewGuid():N}";
        await Put(id, "Start");
        try
        {
            var (_, start) = await Read(id);
            // A repeat of a write whose answer was lost names the version it moved on from, and finds the item as it
            // left it: answered as made, without a write of its own (the tag stays).
            using (var first = await Send(HttpMethod.Patch, id, """{"title":"Once","hidden":true}""", ("If-Match", start)))
                Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            var (_, made) = await Read(id);
            using (var repeat = await Send(HttpMethod.Patch, id, """{"title":"Once","hidden":true}""", ("If-Match", start)))
            {
                Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
                Assert.Equal(made, Tag(repeat));
            }
            using (var put = await Send(HttpMethod.Put, id, """{"title":"Once","text":"Drama","tags":["a"],"hidden":true}""", ("If-Match", start)))
                Assert.Equal((HttpStatusCode.OK, made), (put.StatusCode, Tag(put)));
            // A different change against the old version is refused.
            using (var other = await Send(HttpMethod.Patch, id, """{"title":"Twice"}""", ("If-Match", start)))
                await Failed(other, "If-Match");

            // Two different changes against the same version at once: one is made, the other refused.
            for (var round = 0; round < 3; round++)
            {
                var (_, tag) = await Read(id);
                var answers = await Task.WhenAll(
                    Send(HttpMethod.Patch, id, $$"""{"title":"Left {{round}}"}""", ("If-Match", tag)),
                    Send(HttpMethod.Patch, id, $$"""{"title":"Right {{round}}"}""", ("If-Match", tag)));
                var statuses = answers.Select(a => a.StatusCode).OrderBy(s => s).ToArray();
                foreach (var answer in answers) answer.Dispose();
                Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], statuses);
                Assert.Contains((await Read(id)).Item.Title, new[] { $"Left {round}", $"Right {round}" });
            }
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(Path(id))) { }
        }
    }

    private sealed record ChangesReply(int Count, int Changed, List<ChangeResultReply> Items);

    private sealed record ChangeResultReply(string Id, string Outcome, ItemReply? Item, string? Reason, string? Version);

    private sealed record LookupReply(int Found, List<ItemReply> Items);

    [Fact]
    public async Task A_batch_of_changes_naming_versions_changes_the_items_still_at_them_and_names_the_others()
    {
        var word = $"etag-batch-{Guid.NewGuid():N}";
        var (kept, moved, plain) = ($"{word}-kept", $"{word}-moved", $"{word}-plain");
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new[] { kept, moved, plain }.Select(id => new { id, title = $"Title {id}", tags = new[] { word }, hidden = true })))
            Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Task<HttpResponseMessage> SendBatch(string json) => cluster.Http.PatchAsync("/items", new StringContent(json, Encoding.UTF8, "application/merge-patch+json"));
        try
        {
            // The versions as a lookup gives them, each the item's ETag without the quotes.
            var read = (await (await cluster.Http.PostAsJsonAsync("/items/lookup", new[] { kept, moved })).Content.ReadFromJsonAsync<LookupReply>())!;
            var versions = read.Items.ToDictionary(i => i.Id, i => i.Version!);
            Assert.Equal($"\"{versions[kept]}\"", (await Read(kept)).ETag);
            using (var other = await SendBatch($$"""[{"id":"{{moved}}","text":"Written by another"}]"""))
                Assert.Equal(HttpStatusCode.OK, other.StatusCode);
            var movedTo = (await Read(moved)).ETag.Trim('"');

            using var response = await SendBatch($$"""
                [{"id":"{{kept}}","title":"Kept, changed","ifVersion":"{{versions[kept]}}"}, {"id":"{{moved}}","title":"Moved, changed","ifVersion":"{{versions[moved]}}"},
                 {"id":"{{plain}}","title":"Plain, changed"}]
                """);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var changes = (await response.Content.ReadFromJsonAsync<ChangesReply>())!;
            Assert.Equal((3, 2), (changes.Count, changes.Changed));
            Assert.Equal([(kept, "changed"), (moved, "changedSince"), (plain, "changed")], changes.Items.Select(i => (i.Id, i.Outcome)));
            Assert.Equal(movedTo, changes.Items[1].Version);
            Assert.Contains($"not at ifVersion {versions[moved]}", changes.Items[1].Reason);
            Assert.NotEqual(versions[kept], changes.Items[0].Item!.Version);
            Assert.Equal(("Kept, changed", $"Title {moved}", "Written by another"), ((await Read(kept)).Item.Title, (await Read(moved)).Item.Title, (await Read(moved)).Item.Text));

            // A version that is not one is refused with the batch, naming the element.
            foreach (var bad in new[] { "\"v1\"", "12", "\"\"", "\"-5\"" })
            {
                using var refused = await SendBatch($$"""[{"id":"{{kept}}","hidden":false},{"id":"{{plain}}","hidden":false,"ifVersion":{{bad}}}]""");
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{bad}: {(int)refused.StatusCode}");
                Assert.Equal(["[1].ifVersion"], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            // A single item's PATCH takes its condition in If-Match, not in the body.
            using (var single = await Send(HttpMethod.Patch, kept, $$"""{"title":"X","ifVersion":"{{versions[kept]}}"}"""))
                Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
            Assert.True((await Read(kept)).Item.Hidden);
        }
        finally
        {
            using (await cluster.Http.PostAsJsonAsync("/items/delete", new[] { kept, moved, plain })) { }
        }
    }

    [Fact]
    public async Task Malformed_or_misplaced_conditions_are_refused_naming_the_header_and_write_nothing()
    {
        var id = $"etag-{Guid.NewGuid():N}";
        await Put(id, "Untouched");
        try
        {
            var (_, tag) = await Read(id);
            foreach (var (method, json, header, value) in new[]
                     {
                         (HttpMethod.Patch, """{"title":"X"}""", "If-Match", "not-quoted"),
                         (HttpMethod.Patch, """{"title":"X"}""", "If-Match", $"*, {tag}"),
                         (HttpMethod.Patch, """{"title":"X"}""", "If-None-Match", "*"),
                         (HttpMethod.Put, """{"title":"X","tags":[]}""", "If-None-Match", tag),
                         (HttpMethod.Delete, null, "If-None-Match", "*"),
                         (HttpMethod.Get, null, "If-None-Match", "bare"),
                     })
            {
                using var refused = await Send(method, id, json, (header, value));
                Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{method} {header}: {value}: {(int)refused.StatusCode}");
                Assert.Equal([header], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
            }
            using (var both = await Send(HttpMethod.Put, id, """{"title":"X","tags":[]}""", ("If-Match", tag), ("If-None-Match", "*")))
                Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
            var (item, after) = await Read(id);
            Assert.Equal(("Untouched", tag), (item.Title, after));
        }
        finally
        {
            using (await cluster.Http.DeleteAsync(Path(id))) { }
        }
    }
}
