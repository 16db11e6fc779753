using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Grains.Inference;

namespace Recommender.Cluster.Tests.Api;

/// <summary>POST /recommendations: a history sent with the request, ranked as a stored one, on the small catalogue's two-silo cluster.</summary>
[Collection(SmallClusterCollection.Name)]
public sealed class SessionTests(SmallCatalogueCluster cluster)
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 9, 0, 0, TimeSpan.Zero);

    private static string User() => "session-user-" + Guid.NewGuid().ToString("N");

    private async Task<string> StoreHistory(string[] items)
    {
        var user = User();
        var events = items.Select((item, i) => new { userId = user, itemId = item, type = "view", timestamp = T0.AddMinutes(i) }).ToArray();
        using var response = await cluster.Http.PostAsJsonAsync("/events", events);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return user;
    }

    private async Task<HttpResponseMessage> PostSession(string query, string json) =>
        await cluster.Http.PostAsync("/recommendations" + query, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<JsonElement> SessionJson(string query, string[] items)
    {
        using var response = await cluster.Http.PostAsJsonAsync("/recommendations" + query, new { items });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private async Task<JsonElement> UserJson(string user, string query) =>
        JsonDocument.Parse(await cluster.Http.GetStringAsync($"/users/{user}/recommendations{query}")).RootElement;

    /// <summary>A started listener that calls <paramref name="batch"/> with each encoder batch's size and the meter factory of the silo that ran it.</summary>
    private static MeterListener OnEncoderBatch(Action<IMeterFactory?, int> batch)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ServingMetrics.MeterName && instrument.Name == "recommender.inference.batch.size") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<int>((instrument, size, _, _) => batch(instrument.Meter.Scope as IMeterFactory, size));
        listener.Start();
        return listener;
    }

    private async Task<string[]> Export()
    {
        var text = await cluster.Http.GetStringAsync("/events/export");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Theory]
    [InlineData("?k=10")]
    [InlineData("?k=15&includeSeen=true")]
    [InlineData("?k=8&exclude=14,16&tag=Drama")]
    [InlineData("?k=5&explain=true")]
    public async Task A_session_is_ranked_exactly_as_a_user_with_the_same_history(string query)
    {
        // Drama (even) movies, one of them twice, then an action (odd) one: the order matters to the model.
        string[] items = ["2", "4", "6", "4", "8", "10", "12", "101"];
        var user = await StoreHistory(items);
        var stored = await UserJson(user, query);
        var session = await SessionJson(query, items);

        Assert.Equal("model", session.GetProperty("source").GetString());
        Assert.Equal(stored.GetProperty("modelVersion").GetString(), session.GetProperty("modelVersion").GetString());
        var ranked = session.GetProperty("items");
        Assert.NotEqual(0, ranked.GetArrayLength());
        // Ids, titles, scores, similarities and explanations, value for value.
        Assert.Equal(stored.GetProperty("items").GetRawText(), ranked.GetRawText());

        var ids = ranked.EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToArray();
        if (query.Contains("includeSeen=true"))
            Assert.Contains(ids, items.Contains);
        else
            Assert.DoesNotContain(ids, items.Contains);
        if (query.Contains("exclude=14,16")) Assert.DoesNotContain(ids, new[] { "14", "16" }.Contains);
        if (query.Contains("explain=true"))
            Assert.All(ranked.EnumerateArray(), i => Assert.All(i.GetProperty("because").EnumerateArray(),
                reason => Assert.Contains(reason.GetProperty("itemId").GetString(), items)));
    }

    [Fact]
    public async Task Every_item_of_the_session_is_left_out_unless_seen_items_are_included()
    {
        // k above the catalogue's size ranks every item, so each session item is either returned or left out.
        string[] items = ["2", "101", "4", "103", "4"];
        static string[] Ids(JsonElement reply) => reply.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!).ToArray();
        var all = Ids(await SessionJson("?k=1000&includeSeen=true", items));
        Assert.True(all.Length >= SmallCatalogue.Movies, $"{all.Length} items ranked");
        Assert.All(items, item => Assert.Contains(item, all));
        var unseen = Ids(await SessionJson("?k=1000", items));
        Assert.Empty(unseen.Intersect(items));
        Assert.Equal(all.Except(items), unseen);
    }

    [Fact]
    public async Task The_model_reads_the_order_of_the_session_and_the_session_is_not_stored()
    {
        // Counted apart from stored users' answers.
        using var subjects = new RecommendationSubjects(cluster.FrontEndServices);

        var before = await Export();
        // The baseline weighs recent items most: the same items in the other order lean to the other genre.
        string[] dramaLast = ["101", "103", "105", "2", "4", "6", "8", "10"];
        string[] actionLast = ["2", "4", "6", "8", "10", "101", "103", "105"];
        static int Odd(JsonElement reply) => reply.GetProperty("items").EnumerateArray().Count(i => int.Parse(i.GetProperty("id").GetString()!) % 2 == 1);
        var leaningDrama = await SessionJson("?k=20", dramaLast);
        var leaningAction = await SessionJson("?k=20", actionLast);
        Assert.True(Odd(leaningAction) > Odd(leaningDrama), $"{Odd(leaningAction)} action movies after the action ones, {Odd(leaningDrama)} after the drama ones");
        Assert.Equal(before, await Export());
        await UserJson("1", "?k=3");
        Assert.Equal(["session", "user"], subjects.Seen);
    }

    [Fact]
    public async Task A_session_without_an_item_the_model_knows_gets_the_popularity_list_a_new_user_gets()
    {
        var unlisted = "session-unlisted-" + Guid.NewGuid().ToString("N");
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{unlisted}", new { title = "Not in the model" }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        foreach (var items in new[] { Array.Empty<string>(), [unlisted] })
        {
            // Compared as the silos' copies of the live list settle; then the source of the lists compared.
            JsonElement newcomer = default, session = default, newcomerAfter = default;
            await Serving.ServingChecks.WhileTheLiveListSettles(async () =>
            {
                newcomer = await UserJson(User(), "?k=7");
                session = await SessionJson("?k=7", items);
                newcomerAfter = await UserJson(User(), "?k=7");
                Assert.Equal(newcomer.GetProperty("items").GetRawText(), newcomerAfter.GetProperty("items").GetRawText());
                Assert.Equal(newcomer.GetProperty("items").GetRawText(), session.GetProperty("items").GetRawText());
            });
            Assert.Equal("popularity", newcomer.GetProperty("source").GetString());
            Assert.Equal("popularity", session.GetProperty("source").GetString());
        }
    }

    [Fact]
    public async Task Concurrent_sessions_share_encoder_batches_larger_than_a_silo_has_workers()
    {
        // A silo runs one inference worker per core. Were a worker held while its request waits in the batcher, no
        // batch could gather more histories than that; it takes the next request instead. (This cluster's batches
        // wait 5 ms to fill, so that concurrent requests meet; on a machine with as many cores as a batch holds, 32,
        // the test could not tell the two apart.)
        var workers = Environment.ProcessorCount;
        var largest = 0;
        using var listener = OnEncoderBatch((_, size) =>
        {
            for (var seen = Volatile.Read(ref largest); size > seen; seen = Volatile.Read(ref largest))
                if (Interlocked.CompareExchange(ref largest, size, seen) == seen) break;
        });

        var concurrency = 4 * workers;
        for (var round = 0; round < 20 && Volatile.Read(ref largest) <= workers; round++)
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async i =>
            {
                // A history of its own for every request (the two items in a new order or pair).
                string[] items = [(1 + (round * concurrency + i) % SmallCatalogue.Movies).ToString(), (1 + i % 7).ToString()];
                using var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", new { items });
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }));
        Assert.True(largest > workers, $"the largest batch held {largest} histories; a silo has {workers} workers");
    }

    [Fact]
    public async Task A_session_sent_again_reuses_its_vector_under_other_filters_and_another_order_does_not()
    {
        // Six movies in an order no other request sends.
        var random = new Random(Guid.NewGuid().GetHashCode());
        var items = Enumerable.Range(1, SmallCatalogue.Movies).OrderBy(_ => random.Next()).Take(6).Select(m => m.ToString()).ToArray();
        var first = await SessionJson("?k=10", items);
        var again = await SessionJson("?k=10", items);
        Assert.False(first.GetProperty("cached").GetBoolean());
        Assert.True(again.GetProperty("cached").GetBoolean());
        Assert.Equal(first.GetProperty("items").GetRawText(), again.GetProperty("items").GetRawText());

        // Another list on the same page: other parameters, the same vector, ranked as a stored history with these items.
        var user = await StoreHistory(items);
        var drama = await SessionJson("?k=5&tag=Drama&explain=true", items);
        Assert.True(drama.GetProperty("cached").GetBoolean());
        Assert.Equal((await UserJson(user, "?k=5&tag=Drama&explain=true")).GetProperty("items").GetRawText(), drama.GetProperty("items").GetRawText());

        var reversed = await SessionJson("?k=10", [.. items.Reverse()]);
        Assert.False(reversed.GetProperty("cached").GetBoolean());
    }

    [Fact]
    public async Task Sessions_from_one_front_end_are_encoded_on_every_silo()
    {
        // A client sends a grain's calls through one gateway, and a stateless worker runs on the silo a call arrives at:
        // under one grain key every session of a front end would run on one silo, whatever the cluster's size.
        var silos = cluster.Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => s.SiloHost.Services.GetRequiredService<IMeterFactory>()).ToList();
        var encoded = new int[silos.Count];
        using var listener = OnEncoderBatch((meters, size) =>
        {
            var silo = silos.IndexOf(meters!);
            if (silo >= 0) Interlocked.Add(ref encoded[silo], size);
        });

        var run = Random.Shared.Next(1, SmallCatalogue.Movies);
        for (var i = 0; i < 40; i++)
        {
            // Histories no other request has sent, so that each one is encoded.
            string[] items = [(1 + (run + i) % SmallCatalogue.Movies).ToString(), (1 + (run + 7 * i + 3) % SmallCatalogue.Movies).ToString()];
            using var response = await cluster.Http.PostAsJsonAsync("/recommendations?k=3", new { items });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.All(encoded, count => Assert.True(count > 0, $"histories encoded by silo: {string.Join(", ", encoded)}"));
    }

    [Theory]
    [InlineData("", """["1","2"]""", "body")]
    [InlineData("", """{}""", "items")]
    [InlineData("", """{"items":null}""", "items")]
    [InlineData("", """{"items":"1,2"}""", "items")]
    [InlineData("", """{"items":["1"],"Items":["2"]}""", "Items")]
    [InlineData("", """{"items":["1",{"id":"2"}]}""", "items[1]")]
    [InlineData("", """{"items":["1","  "]}""", "items[1]")]
    [InlineData("", """{"items":[2, 1.5]}""", "items[1]")]
    [InlineData("", """{"items":["1","no-such-item-in-the-catalogue","3"]}""", "items[1]")]
    [InlineData("?k=0", """{"items":["1"]}""", "k")]
    [InlineData("?includeSeen=yes", """{"items":["1"]}""", "includeSeen")]
    [InlineData("?top=3", """{"items":["1"]}""", "top")]
    [InlineData("?tag=%20", """{"items":["1"]}""", "tag")]
    public async Task A_wrong_session_request_is_a_400_naming_the_field(string query, string json, string field)
    {
        using var response = await PostSession(query, json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemReply>();
        Assert.True(problem!.Errors!.ContainsKey(field), $"{field} not named: {string.Join(", ", problem.Errors.Keys)}");
    }

    [Fact]
    public async Task Sessions_past_the_item_limit_or_of_another_content_type_are_refused()
    {
        var tooMany = JsonSerializer.Serialize(new { items = Enumerable.Repeat("1", Recommender.Abstractions.Limits.MaxSessionItems + 1) });
        using (var response = await PostSession("", tooMany))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("the limit is 1000", (await response.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["items"][0]);
        }
        var atLimit = JsonSerializer.Serialize(new { items = Enumerable.Range(0, Recommender.Abstractions.Limits.MaxSessionItems).Select(i => (2 + 2 * (i % 50)).ToString()) });
        using (var response = await PostSession("?k=3", atLimit))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var response = await cluster.Http.PostAsync("/recommendations", new StringContent("""{"items":["1"]}""", Encoding.UTF8, "text/plain")))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
