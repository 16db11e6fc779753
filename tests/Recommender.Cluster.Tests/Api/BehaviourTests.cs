using System.Net;
using System.Net.Http.Json;
using Recommender.Abstractions;
using Microsoft.Data.Sqlite;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Api;

/// <summary>Events, histories, recommendations and items through HTTP against a two-silo cluster on SQLite.</summary>
[Collection(SmallClusterCollection.Name)]
public sealed class BehaviourTests(SmallCatalogueCluster cluster)
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>The movie number of a seeded item; -1 for items other tests added.</summary>
    private static int Movie(RecommendedItemReply item) => int.TryParse(item.Id, out var movie) ? movie : -1;

    private static string User() => "user-" + Guid.NewGuid().ToString("N");

    private static object Event(string user, string item, string type, int minutes, string? eventId = null) =>
        new { userId = user, itemId = item, type, timestamp = T0.AddMinutes(minutes), eventId };

    private async Task<IngestReply> Post(params object[] events)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/events", events);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<IngestReply>())!;
    }

    [Fact]
    public async Task Events_arriving_out_of_order_and_twice_make_one_ordered_history()
    {
        var user = User();
        Assert.Equal(new IngestReply(3, 0, 1, 0), await Post(Event(user, "5", "view", 30, "a"), Event(user, "7", "CLICK", 10, "b"), Event(user, "9", "Purchase", 20, "c")));
        Assert.Equal(new IngestReply(2, 2, 1, 0), await Post(Event(user, "7", "click", 10, "b"), Event(user, "11", "like", 5, "d"), Event(user, "5", "view", 30, "a"), Event(user, "13", "cart", 40, "e")));
        // No event id: derived from (user, item, type, timestamp), so a resend is a duplicate.
        Assert.Equal(new IngestReply(1, 0, 1, 0), await Post(new { userId = user, itemId = "15", type = "rating", timestamp = T0.AddMinutes(50), value = 4.5 }));
        Assert.Equal(new IngestReply(0, 1, 1, 0), await Post(new { userId = user, itemId = "15", type = "rating", timestamp = T0.AddMinutes(50), value = 4.5 }));

        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(6, history.TotalCount);
        Assert.Equal(["11", "7", "9", "5", "13", "15"], history.Events.Select(e => e.ItemId));
        Assert.Equal(["like", "click", "purchase", "view", "cart", "rating"], history.Events.Select(e => e.Type));
        Assert.Equal(4.5, history.Events[^1].Value);
        Assert.Equal(["d", "b", "c", "a", "e"], history.Events.Take(5).Select(e => e.EventId));
        Assert.Equal(["13", "15"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history?limit=2")).Events.Select(e => e.ItemId));

        // The export carries the rating's value, and an empty value for the other events.
        var rows = await ExportRows(user);
        Assert.Equal(6, rows.Length);
        Assert.Single(rows, r => r.Contains(",15,rating,", StringComparison.Ordinal) && r.EndsWith(",4.5", StringComparison.Ordinal));
        Assert.All(rows.Where(r => !r.Contains(",rating,", StringComparison.Ordinal)), r => Assert.EndsWith(",", r));
    }

    [Fact]
    public async Task A_batch_for_several_users_lands_in_each_history()
    {
        string a = User(), b = User();
        Assert.Equal(new IngestReply(3, 0, 2, 0), await Post(Event(a, "1", "view", 1), Event(b, "2", "view", 1), Event(a, "3", "view", 2)));
        Assert.Equal(2, (await cluster.GetJsonAsync<HistoryReply>($"/users/{a}/history")).TotalCount);
        Assert.Equal(1, (await cluster.GetJsonAsync<HistoryReply>($"/users/{b}/history")).TotalCount);
    }

    private async Task<IngestReply> PostWithKey(string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await cluster.Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<IngestReply>())!;
    }

    [Fact]
    public async Task A_request_sent_again_with_its_idempotency_key_stores_nothing_twice_even_without_timestamps()
    {
        string a = User(), b = User();
        // No timestamps and no event ids: the server stamps each event with the time it arrives, so without the key a
        // resend would be new events.
        object[] batch = [new { userId = a, itemId = "1", type = "view" }, new { userId = b, itemId = "2", type = "view" }, new { userId = a, itemId = "3", type = "rating", value = 4 }];
        Assert.Equal(new IngestReply(3, 0, 2, 0), await PostWithKey("order-42", batch));
        Assert.Equal(new IngestReply(0, 3, 2, 0), await PostWithKey("\"order-42\"", batch));
        // The same events under another key are other events.
        Assert.Equal(new IngestReply(3, 0, 2, 0), await PostWithKey("order-43", batch));

        // One user's request goes to its grain directly, and is idempotent the same way.
        Assert.Equal(new IngestReply(1, 0, 1, 0), await PostWithKey("single-1", new { userId = a, itemId = "5", type = "click" }));
        Assert.Equal(new IngestReply(0, 1, 1, 0), await PostWithKey("single-1", new { userId = a, itemId = "5", type = "click" }));
        // A key reused for a different event stores it rather than dropping it as a duplicate.
        Assert.Equal(new IngestReply(1, 0, 1, 0), await PostWithKey("single-1", new { userId = a, itemId = "7", type = "click" }));

        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{a}/history");
        Assert.Equal(["1", "3", "1", "3", "5", "7"], history.Events.Select(e => e.ItemId));
        Assert.Equal(4, history.Events[1].Value);
        Assert.Equal(2, (await cluster.GetJsonAsync<HistoryReply>($"/users/{b}/history")).TotalCount);
    }

    [Fact]
    public async Task Recommendations_carry_titles_and_version_exclude_history_and_are_cached_until_the_history_changes()
    {
        var history = await cluster.GetJsonAsync<HistoryReply>("/users/4/history");
        Assert.NotEmpty(history.Events);
        var seen = history.Events.Select(e => e.ItemId).ToHashSet();

        var first = await cluster.GetJsonAsync<RecommendationsReply>("/users/4/recommendations?k=20");
        Assert.Equal("model", first.Source);
        Assert.StartsWith("recency-mean-", first.ModelVersion);
        Assert.Equal(20, first.Items.Count);
        Assert.Equal(first.Items.Count, first.Items.Select(i => i.Id).Distinct().Count());
        Assert.All(first.Items, i => Assert.DoesNotContain(i.Id, seen));
        // Other tests add items of their own (non-numeric ids); the seeded movies must carry their catalogue titles.
        Assert.All(first.Items, i => Assert.StartsWith(int.TryParse(i.Id, out var movie) ? SmallCatalogue.Title(movie) : "", i.Title));
        Assert.Equal(1.0, first.Items.Sum(i => i.Score), 1e-6);
        // The baseline's cosine similarities are turned into scores at temperature 0.1 (Recommender:SoftmaxTemperature).
        Assert.All(first.Items, i => Assert.Equal(Math.Exp((i.Similarity - first.Items[0].Similarity) / 0.1), i.Score / first.Items[0].Score, 1e-6));
        Assert.True(first.Items.Zip(first.Items.Skip(1)).All(p => p.First.Similarity >= p.Second.Similarity));
        // User 4 mostly rated even (drama) movies: the model should mostly recommend those.
        Assert.True(first.Items.Count(i => Movie(i) % 2 == 0) >= 14, string.Join(",", first.Items.Select(i => i.Id)));

        var again = await cluster.GetJsonAsync<RecommendationsReply>("/users/4/recommendations?k=20");
        Assert.True(again.Cached);
        Assert.Equal(first.Items.Select(i => i.Id), again.Items.Select(i => i.Id));

        // A burst of odd (action) movies moves the recency-weighted interest and so the answer.
        var odd = Enumerable.Range(0, 8).Select(i => (object)new { userId = "4", itemId = (101 + 2 * i).ToString(), type = "purchase", timestamp = DateTimeOffset.UtcNow.AddMinutes(-10 + i) }).ToArray();
        Assert.Equal(8, (await Post(odd)).Accepted);
        var after = await cluster.GetJsonAsync<RecommendationsReply>("/users/4/recommendations?k=20");
        Assert.False(after.Cached);
        Assert.NotEqual(first.Items.Select(i => i.Id), after.Items.Select(i => i.Id));
        Assert.All(after.Items, i => Assert.False(Movie(i) is >= 101 and <= 115 && Movie(i) % 2 == 1, $"{i.Id} was just purchased"));
        Assert.True(after.Items.Count(i => Movie(i) % 2 == 1) > first.Items.Count(i => Movie(i) % 2 == 1));
    }

    [Fact]
    public async Task Erasing_a_user_deletes_the_stored_history_and_the_export_rows_and_a_new_event_starts_afresh()
    {
        var user = User();
        Assert.Equal(3, (await Post(Event(user, "2", "view", 1, "e1"), Event(user, "4", "like", 2, "e2"), Event(user, "6", "purchase", 3, "e3"))).Accepted);
        Assert.Equal("model", (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5")).Source);
        Assert.Equal(3, (await ExportRows(user)).Length);
        Assert.NotNull(await StoredPayload(user));

        using (var response = await cluster.Http.DeleteAsync($"/users/{user}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(new ErasedUserReply(user, 3), await response.Content.ReadFromJsonAsync<ErasedUserReply>());
        }
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(0, history.TotalCount);
        Assert.Empty(history.Events);
        Assert.Equal("popularity", (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5")).Source);
        Assert.Empty(await ExportRows(user));
        // The storage row keeps no payload: the events are gone from the database file, not only from memory.
        Assert.Null(await StoredPayload(user));
        Assert.DoesNotContain(user, (await cluster.Cluster.Client.GetGrain<IUserDirectoryGrain>(Partitions.Of(user, Partitions.UserDirectory)).List()).Value);

        // A repeat is harmless and says nothing was left.
        Assert.Equal(new ErasedUserReply(user, 0), await (await cluster.Http.DeleteAsync($"/users/{user}")).Content.ReadFromJsonAsync<ErasedUserReply>());

        // An erased event id is forgotten too: the same event is new again, and the user is exported again.
        Assert.Equal(new IngestReply(1, 0, 1, 0), await Post(Event(user, "2", "view", 1, "e1")));
        history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(1, history.TotalCount);
        Assert.Equal(["e1"], history.Events.Select(e => e.EventId));
        Assert.Single(await ExportRows(user));
        Assert.Contains(user, (await cluster.Cluster.Client.GetGrain<IUserDirectoryGrain>(Partitions.Of(user, Partitions.UserDirectory)).List()).Value);
    }

    private sealed record RemovedEventsReply(string UserId, int RemovedEvents, string? ItemId, string? Type, string? EventId);

    private async Task<RemovedEventsReply> Remove(string path)
    {
        using var response = await cluster.Http.DeleteAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<RemovedEventsReply>())!;
    }

    private async Task<string[]> Listed(string user) =>
        [.. (await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k={Limits.MaxK}")).Items.Select(i => i.Id)];

    [Fact]
    public async Task Taking_back_an_item_removes_its_events_from_the_history_the_export_and_the_seen_items_and_a_resend_is_a_repeat()
    {
        var user = User();
        Assert.Equal(5, (await Post(Event(user, "2", "view", 1, "e1"), Event(user, "2", "cart", 2, "e2"), Event(user, "4", "view", 3, "e3"),
            Event(user, "2", "purchase", 4, "e4"), Event(user, "6", "like", 5, "e5"))).Accepted);
        Assert.DoesNotContain("2", await Listed(user));

        // One type of the item's events, then the rest of them.
        Assert.Equal(new RemovedEventsReply(user, 1, "2", "cart", null), await Remove($"/users/{user}/items/2?type=Cart"));
        Assert.Equal(new RemovedEventsReply(user, 2, "2", null, null), await Remove($"/users/{user}/items/2"));
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(2, history.TotalCount);
        Assert.Equal(["e3", "e5"], history.Events.Select(e => e.EventId));
        Assert.Equal(2, (await ExportRows(user)).Length);
        // The item is no longer one the user had: it may be recommended again.
        Assert.Contains("2", await Listed(user));

        // A repeat removes nothing; the events sent again are repeats, not stored again; a new event of the item is.
        Assert.Equal(0, (await Remove($"/users/{user}/items/2")).RemovedEvents);
        Assert.Equal(new IngestReply(0, 2, 1, 0), await Post(Event(user, "2", "view", 1, "e1"), Event(user, "2", "purchase", 4, "e4")));
        Assert.Equal(new IngestReply(1, 0, 1, 0), await Post(Event(user, "2", "view", 9, "e6")));
        Assert.DoesNotContain("2", await Listed(user));

        // One event by its id.
        Assert.Equal(new RemovedEventsReply(user, 1, null, null, "e3"), await Remove($"/users/{user}/events/e3"));
        Assert.Equal(0, (await Remove($"/users/{user}/events/e3")).RemovedEvents);
        Assert.Equal(0, (await Remove($"/users/{user}/events/never-sent")).RemovedEvents);
        history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(2, history.TotalCount);
        Assert.Equal(["e5", "e6"], history.Events.Select(e => e.EventId));

        // Refusals name what is wrong and take nothing back.
        foreach (var (path, field) in new[]
                 {
                     ($"/users/{user}/items/6?type=bogus", "type"), ($"/users/{user}/items/%01bad", "itemId"), ($"/users/%01bad/items/6", "id"),
                     ($"/users/{user}/items/6?dryRun=true", "dryRun"), ($"/users/{user}/events/%01bad", "eventId"),
                 })
        {
            using var response = await cluster.Http.DeleteAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode}");
            Assert.Contains(field, (await response.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
        }
        Assert.Equal(2, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).Events.Count);
    }

    private sealed record RemovedEventsBatchReply(int Count, int RemovedEvents, List<RemovedEventsReply> Items);

    [Fact]
    public async Task A_batch_of_take_backs_is_checked_whole_then_each_users_run_in_the_order_sent()
    {
        var (first, second) = (User(), User());
        await Post(Event(first, "2", "view", 1, "a1"), Event(first, "2", "cart", 2, "a2"), Event(first, "4", "view", 3, "a3"), Event(second, "4", "view", 1, "b1"));
        Task<HttpResponseMessage> Send(string json) => cluster.Http.PostAsync("/events/delete", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        foreach (var (body, field) in new[]
                 {
                     ("{}", "body"), ("[]", "body"), ($$"""[{"userId":"{{first}}","itemId":"2","eventId":"a1"}]""", "[0]"),
                     ($$"""[{"userId":"{{first}}","itemId":"2"},{"userId":"{{first}}","eventId":"a1","type":"view"}]""", "[1].type"),
                     ($$"""[{"userId":"{{first}}","itemId":"2"},{"itemId":"4"}]""", "[1].userId"), ($$"""[{"userId":"{{first}}"}]""", "[0]"),
                     ($$"""[{"userId":"{{first}}","itemId":"2","type":"bogus"}]""", "[0].type"), ($$"""[{"userId":"{{first}}","itemId":"2","why":"x"}]""", "[0].why"),
                     ($"[{string.Join(",", Enumerable.Range(0, Limits.MaxEventsPerRequest + 1).Select(i => $$"""{"userId":"u{{i}}","itemId":"2"}"""))}]", "body"),
                 })
        {
            using var refused = await Send(body);
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{body[..Math.Min(80, body.Length)]}: {(int)refused.StatusCode}");
            Assert.Equal([field], (await refused.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!.Keys);
        }
        Assert.Equal(3, (await cluster.GetJsonAsync<HistoryReply>($"/users/{first}/history")).Events.Count);

        // The first user's cart of item 2, then every event of it (one left), then an event already gone; the second user's item 4.
        using var response = await Send($$"""
            [{"userId":"{{first}}","itemId":"2","type":"cart"}, {"userId":"{{second}}","itemId":"4"}, {"userId":"{{first}}","itemId":"2"},
             {"userId":"{{first}}","eventId":"a2"}]
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = (await response.Content.ReadFromJsonAsync<RemovedEventsBatchReply>())!;
        Assert.Equal((4, 3), (answer.Count, answer.RemovedEvents));
        Assert.Equal([(first, 1, "2", "cart", (string?)null), (second, 1, "4", null, null), (first, 1, "2", null, null), (first, 0, null, null, "a2")],
            answer.Items.Select(i => (i.UserId, i.RemovedEvents, i.ItemId, i.Type, i.EventId)));
        Assert.Equal(["a3"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{first}/history")).Events.Select(e => e.EventId));
        Assert.Empty((await cluster.GetJsonAsync<HistoryReply>($"/users/{second}/history")).Events);
    }

    [Fact]
    public async Task Erasing_with_a_bad_id_or_an_unknown_parameter_is_a_400_that_erases_nothing()
    {
        var user = User();
        await Post(Event(user, "2", "view", 1));
        foreach (var path in new[] { $"/users/{user}?dryRun=true", "/users/%01bad" })
        {
            using var response = await cluster.Http.DeleteAsync(path);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ProblemReply>();
            Assert.Contains(path.Contains('?') ? "dryRun" : "id", problem!.Errors!.Keys);
        }
        Assert.Equal(1, (await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history")).TotalCount);
    }

    /// <summary>The user's rows in GET /events/export (one per retained event).</summary>
    private async Task<string[]> ExportRows(string user) =>
        (await cluster.Http.GetStringAsync("/events/export")).Split('\n').Where(l => l.StartsWith(user + ",", StringComparison.Ordinal)).ToArray();

    /// <summary>The user grain's stored payload, read from the SQLite file itself; null when the row has none.</summary>
    private async Task<byte[]?> StoredPayload(string user)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(cluster.DataDirectory, RecommenderOptions.DatabaseFile)}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'user' AND GrainIdExtensionString = $id";
        command.Parameters.AddWithValue("$id", user);
        var value = await command.ExecuteScalarAsync();
        Assert.NotNull(value);
        return value is DBNull ? null : (byte[])value;
    }

    [Fact]
    public async Task A_user_without_history_gets_the_popularity_list()
    {
        var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{User()}/recommendations?k=5");
        Assert.Equal("popularity", reply.Source);
        Assert.Equal(5, reply.Items.Count);
        Assert.All(reply.Items, i => Assert.False(string.IsNullOrEmpty(i.Title)));
        Assert.True(reply.Items.Zip(reply.Items.Skip(1)).All(p => p.First.Score >= p.Second.Score));
    }

    [Fact]
    public async Task Events_on_items_the_model_does_not_know_do_not_push_the_known_ones_out_of_what_it_reads()
    {
        // Ten drama (even) movies, then more events on catalogue items outside the model (no vector, so never
        // recommended) than the 200 a window of events held.
        var user = User();
        var unlisted = Enumerable.Range(0, 250).Select(i => $"unlisted-{Guid.NewGuid():N}").ToArray();
        using (var items = await cluster.Http.PostAsJsonAsync("/items", unlisted.Select(id => new { id, title = "Unlisted " + id }).ToArray()))
            Assert.True(items.IsSuccessStatusCode, await items.Content.ReadAsStringAsync());
        var known = Enumerable.Range(0, 10).Select(i => Event(user, (2 + 2 * i).ToString(), "view", i));
        var unknown = unlisted.Select((id, i) => Event(user, id, "view", 100 + i));
        Assert.Equal(260, (await Post([.. known, .. unknown])).Accepted);

        var reply = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=10");
        Assert.Equal("model", reply.Source);
        Assert.True(reply.Items.Count(i => Movie(i) % 2 == 0) >= 7, string.Join(",", reply.Items.Select(i => i.Id)));
    }

    [Fact]
    public async Task Similar_items_exclude_the_item_and_rank_by_cosine_and_are_timed_as_their_own_subject()
    {
        using var subjects = new RecommendationSubjects(cluster.FrontEndServices);
        var reply = await cluster.GetJsonAsync<SimilarReply>("/items/2/similar?k=10");
        Assert.Equal(["similar"], subjects.Seen);
        Assert.Equal(10, reply.Items.Count);
        Assert.DoesNotContain(reply.Items, i => i.Id == "2");
        Assert.All(reply.Items, i => Assert.InRange(i.Similarity, -1.0001f, 1.0001f));
        Assert.True(reply.Items.Count(i => Movie(i) % 2 == 0) >= 7);
    }

    [Fact]
    public async Task New_items_with_an_embedding_are_placed_in_shards_and_recommended()
    {
        var model = (await cluster.Cluster.Client.GetGrain<ICatalogueGrain>(0).GetSnapshot()).Model!;
        var top = (await cluster.GetJsonAsync<RecommendationsReply>("/users/6/recommendations?k=1")).Items.Single();
        var placement = (await cluster.GetJsonAsync<ItemReply>($"/items/{top.Id}")).Placement!;
        var vector = await cluster.Cluster.Client.GetGrain<IItemShardGrain>($"{model.Version}/{placement.Shard}-of-{model.Shards}").GetVector(top.Id);
        var embedding = VectorBytes.ToFloats(vector!.Value.Value);

        var id = "twin-" + Guid.NewGuid().ToString("N");
        using var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Twin of " + top.Title, text = "same vector", tags = new[] { "Test" }, embedding });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var item = (await put.Content.ReadFromJsonAsync<ItemReply>())!;
        Assert.True(item.Recommendable);
        Assert.True(item.HasEmbedding);
        Assert.Null(item.Placement!.DenseId);

        var stored = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
        Assert.Equal("Twin of " + top.Title, stored.Title);
        Assert.Equal(["Test"], stored.Tags);
        Assert.Equal(item.Placement, stored.Placement);

        var recommended = await cluster.GetJsonAsync<RecommendationsReply>("/users/6/recommendations?k=2");
        Assert.Equal(new[] { top.Id, id }.Order(), recommended.Items.Select(i => i.Id).Order());
        Assert.Contains(recommended.Items, i => i.Title == "Twin of " + top.Title);
        Assert.Equal((await cluster.GetJsonAsync<SimilarReply>($"/items/{top.Id}/similar?k=1")).Items.Single().Id, id);
    }

    [Fact]
    public async Task A_bulk_item_post_places_every_item_and_a_retitle_reaches_the_shard()
    {
        var ids = Enumerable.Range(0, 6).Select(i => $"bulk-{i}-{Guid.NewGuid():N}").ToArray();
        var random = new Random(3);
        var items = ids.Select(id => new { id, title = "Bulk " + id, embedding = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() + 0.1f).ToArray() }).ToArray();
        using var response = await cluster.Http.PostAsJsonAsync("/items", items);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var reply = (await response.Content.ReadFromJsonAsync<ItemsReply>())!;
        Assert.Equal(6, reply.Count);
        Assert.All(reply.Items, i => Assert.True(i.Recommendable));
        Assert.True(reply.Items.Select(i => i.Placement!.Shard).Distinct().Count() > 1, "new items spread over the shards");

        using var retitle = await cluster.Http.PutAsJsonAsync("/items/2", new { title = "Renamed Two" });
        Assert.True(retitle.IsSuccessStatusCode);
        var similar = await cluster.GetJsonAsync<SimilarReply>("/items/4/similar?k=120");
        Assert.Contains(similar.Items, i => i.Id == "2" && i.Title == "Renamed Two");
    }

    /// <summary>
    /// The grain storage files a key that reads as a hexadecimal number by its value; ids spelling one number
    /// differently ("0ab" and "AB", "007" and "7") must still be different users and items, also once read back.
    /// </summary>
    [Fact]
    public async Task Ids_that_spell_one_number_differently_are_different_users_and_items()
    {
        var digits = Guid.NewGuid().ToString("N")[..12];
        var number = "F" + digits.ToUpperInvariant();
        var (lower, upper) = (number.ToLowerInvariant(), number);
        var (padded, plain) = ("00" + number, number);
        await Post(Event(lower, "8", "view", 1), Event(upper, "10", "view", 2), Event(upper, "12", "view", 3));
        using (var a = await cluster.Http.PutAsJsonAsync($"/items/{padded}", new { title = "Padded " + digits }))
            Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        using (var b = await cluster.Http.PutAsJsonAsync($"/items/{plain}", new { title = "Plain " + digits }))
            Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        foreach (var id in new[] { lower, upper }) await cluster.Cluster.DeactivateAsync(cluster.Cluster.Client.User(id));
        foreach (var id in new[] { padded, plain }) await cluster.Cluster.DeactivateAsync(cluster.Cluster.Client.Item(id));

        Assert.Equal(["8"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{lower}/history")).Events.Select(e => e.ItemId));
        Assert.Equal(["10", "12"], (await cluster.GetJsonAsync<HistoryReply>($"/users/{upper}/history")).Events.Select(e => e.ItemId));
        Assert.Equal("Padded " + digits, (await cluster.GetJsonAsync<ItemReply>($"/items/{padded}")).Title);
        Assert.Equal("Plain " + digits, (await cluster.GetJsonAsync<ItemReply>($"/items/{plain}")).Title);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/items/0{plain}")).StatusCode);

        using var erase = await cluster.Http.DeleteAsync($"/users/{upper}");
        Assert.Equal(2, (await erase.Content.ReadFromJsonAsync<ErasedUserReply>())!.ErasedEvents);
        Assert.Equal(1, (await cluster.GetJsonAsync<HistoryReply>($"/users/{lower}/history")).TotalCount);

        // Braces (a GUID written as "{...}") are as good as any other character.
        var braced = "{" + Guid.NewGuid().ToString().ToUpperInvariant() + "}";
        var path = Uri.EscapeDataString(braced);
        await Post(Event(braced, "8", "view", 1));
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{path}", new { title = "Braced " + digits }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await cluster.Cluster.DeactivateAsync(cluster.Cluster.Client.User(braced));
        await cluster.Cluster.DeactivateAsync(cluster.Cluster.Client.Item(braced));
        Assert.Equal(braced, (await cluster.GetJsonAsync<HistoryReply>($"/users/{path}/history")).UserId);
        Assert.Equal("Braced " + digits, (await cluster.GetJsonAsync<ItemReply>($"/items/{path}")).Title);
        using var eraseBraced = await cluster.Http.DeleteAsync($"/users/{path}");
        Assert.Equal(HttpStatusCode.OK, eraseBraced.StatusCode);
        Assert.Equal(1, (await eraseBraced.Content.ReadFromJsonAsync<ErasedUserReply>())!.ErasedEvents);
    }

    [Fact]
    public async Task State_survives_a_silo_restart()
    {
        var user = User();
        await Post(Event(user, "8", "view", 3), Event(user, "10", "like", 1), Event(user, "12", "cart", 2));
        var before = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        var recommendationsBefore = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");

        await cluster.RestartSecondarySilosAsync();
        await cluster.Cluster.DeactivateAsync(cluster.Cluster.Client.User(user));

        var after = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(before.TotalCount, after.TotalCount);
        Assert.Equal(before.Events, after.Events);
        var recommendationsAfter = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");
        Assert.False(recommendationsAfter.Cached);
        Assert.Equal(recommendationsBefore.Items.Select(i => i.Id), recommendationsAfter.Items.Select(i => i.Id));
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/health/ready")).StatusCode);
    }
}
