using System.Net;
using System.Net.Http.Json;
using System.Text;
using Recommender.Abstractions;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>Every kind of bad input is a problem-details answer naming the field, and writes nothing.</summary>
[Collection(SmallClusterCollection.Name)]
public sealed class ValidationTests(SmallCatalogueCluster cluster)
{
    private static async Task<ProblemReply> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ProblemReply>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        Assert.Equal((int)status, problem.Status);
        Assert.NotNull(problem.Errors);
        Assert.True(problem.Errors!.ContainsKey(field), $"Expected an error for '{field}' in {body}");
        Assert.All(problem.Errors[field], message => Assert.False(string.IsNullOrWhiteSpace(message)));
        return problem;
    }

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        cluster.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task AssertNoHistory(string user)
    {
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(0, history.TotalCount);
        Assert.Empty(history.Events);
    }

    private static string User() => "validation-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_batch_with_one_bad_event_names_its_index_and_writes_none_of_it()
    {
        var user = User();
        var json = $$"""
            [{"userId":"{{user}}","itemId":"1","type":"view"},
             {"userId":"{{user}}","itemId":"2","type":"click"},
             {"userId":"{{user}}","itemId":"3","type":"cart"},
             {"userId":"{{user}}","itemId":"4","type":"teleport"}]
            """;
        var problem = await AssertProblem(await PostJson("/events", json), HttpStatusCode.BadRequest, "[3].type");
        Assert.Contains("teleport", problem.Errors!["[3].type"][0]);
        Assert.Single(problem.Errors);
        await AssertNoHistory(user);
    }

    [Theory]
    [InlineData("""{"userId":"","itemId":"1","type":"view"}""", "userId")]
    [InlineData("""{"userId":"   ","itemId":"1","type":"view"}""", "userId")]
    [InlineData("""{"itemId":"1","type":"view"}""", "userId")]
    [InlineData("""{"userId":"u","itemId":"","type":"view"}""", "itemId")]
    [InlineData("""{"userId":"u","itemId":{"x":1},"type":"view"}""", "itemId")]
    [InlineData("""{"userId":"u","itemId":"1"}""", "type")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","timestamp":"yesterday-ish"}""", "timestamp")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","timestamp":true}""", "timestamp")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","timestamp":"11/27/2026"}""", "timestamp")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","timestamp":"12:00"}""", "timestamp")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","timestamp":"Tuesday, 1 Dec 2026"}""", "timestamp")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view,click"}""", "type")]
    [InlineData("""{"userId":"u","itemId":"1","type":"+3"}""", "type")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","eventId":""}""", "eventId")]
    [InlineData("""{"userId":"u","itemId":"1","type":"view","value":3}""", "value")]
    [InlineData("""{"userId":"u","itemId":"1","type":"rating","value":"five"}""", "value")]
    [InlineData("""{"userId":"u","itemId":"1","type":"dismiss","value":1}""", "value")]
    [InlineData("""{"userId":"u","itemId":"1","type":"purchase","value":-0.01}""", "value")]
    [InlineData("""{"userId":"u","itemId":"1","type":"purchase","value":"19.99"}""", "value")]
    public async Task Bad_event_fields_are_named(string json, string field) =>
        await AssertProblem(await PostJson("/events", json), HttpStatusCode.BadRequest, field);

    [Fact]
    public async Task A_purchase_keeps_the_amount_paid_as_its_value_and_a_rating_its_stars()
    {
        var user = User();
        var json = $$"""
            [{"userId":"{{user}}","itemId":"1","type":"purchase","value":19.99,"timestamp":"2026-01-02T00:00:00Z"},
             {"userId":"{{user}}","itemId":"2","type":"purchase","value":0,"timestamp":"2026-01-03T00:00:00Z"},
             {"userId":"{{user}}","itemId":"3","type":"purchase","timestamp":"2026-01-04T00:00:00Z"},
             {"userId":"{{user}}","itemId":"4","type":"rating","value":-2,"timestamp":"2026-01-05T00:00:00Z"}]
            """;
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", json)).StatusCode);
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal([19.99, 0, null, -2], history.Events.Select(e => e.Value));
    }

    [Fact]
    public async Task ISO_8601_timestamps_keep_their_offset_and_read_as_UTC_without_one()
    {
        var user = User();
        var json = $$"""
            [{"userId":"{{user}}","itemId":"1","type":"view","timestamp":"2026-01-02T03:04:05+02:00"},
             {"userId":"{{user}}","itemId":"2","type":"view","timestamp":"2026-01-03"},
             {"userId":"{{user}}","itemId":"3","type":"view","timestamp":"2026-01-04T10:00"},
             {"userId":"{{user}}","itemId":"4","type":"view","timestamp":1767607200}]
            """;
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", json)).StatusCode);
        var history = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}/history");
        Assert.Equal(
            [new DateTimeOffset(2026, 1, 2, 1, 4, 5, TimeSpan.Zero), new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero),
             new DateTimeOffset(2026, 1, 4, 10, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero)],
            history.Events.Select(e => e.Timestamp.ToUniversalTime()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\\b")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345")]
    public async Task A_bad_idempotency_key_is_named_and_the_events_are_not_written(string key)
    {
        var user = User();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events")
        {
            Content = new StringContent($"{{\"userId\":\"{user}\",\"itemId\":\"1\",\"type\":\"view\"}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        await AssertProblem(await cluster.Http.SendAsync(request), HttpStatusCode.BadRequest, "Idempotency-Key");
        await AssertNoHistory(user);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_idempotency_key_header()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var header = document.RootElement.GetProperty("paths").GetProperty("/events").GetProperty("post").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == "Idempotency-Key");
        Assert.Equal("header", header.GetProperty("in").GetString());
        Assert.Equal(255, header.GetProperty("schema").GetProperty("maxLength").GetInt32());
        Assert.Contains("nothing twice", header.GetProperty("description").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_an_items_conditions_as_its_version_and_a_take_backs_event_types()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        System.Text.Json.JsonElement Parameter(string path, string method, string name) => paths.GetProperty(path).GetProperty(method).GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
        foreach (var (method, header) in new[] { ("put", "If-Match"), ("put", "If-None-Match"), ("patch", "If-Match"), ("delete", "If-Match"), ("get", "If-None-Match") })
        {
            var described = Parameter("/items/{id}", method, header).GetProperty("description").GetString();
            Assert.Contains("version", described);
            Assert.DoesNotContain("scenario", described);
        }
        Assert.Contains("revision", Parameter("/scenarios/{name}", "put", "If-Match").GetProperty("description").GetString());
        Assert.Contains("412", paths.GetProperty("/items/{id}").GetProperty("patch").GetProperty("responses").EnumerateObject().Select(r => r.Name));
        var type = Parameter("/users/{id}/items/{itemId}", "delete", "type");
        Assert.Equal(Enum.GetValues<EventType>().Select(EventTypes.Name), type.GetProperty("schema").GetProperty("enum").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task A_misspelt_or_differently_cased_event_field_is_named_and_the_batch_is_not_written()
    {
        // Without the check the event would be stored with the server's time in place of the one sent.
        var user = User();
        var json = $$"""
            [{"userId":"{{user}}","itemId":"1","type":"view","timestamp":"2026-01-01T00:00:00Z"},
             {"userId":"{{user}}","itemId":"2","type":"view","timeStamp":"2026-01-02T00:00:00Z"},
             {"userId":"{{user}}","itemId":"3","type":"rating","Value":4}]
            """;
        var problem = await AssertProblem(await PostJson("/events", json), HttpStatusCode.BadRequest, "[1].timeStamp");
        Assert.Contains("timestamp", problem.Errors!["[1].timeStamp"][0]);
        Assert.True(problem.Errors.ContainsKey("[2].Value"));
        Assert.Equal(2, problem.Errors.Count);
        await AssertNoHistory(user);
    }

    [Fact]
    public async Task Ids_over_256_characters_are_rejected_in_bodies_and_paths()
    {
        var longId = new string('u', 257);
        await AssertProblem(await PostJson("/events", $$"""{"userId":"{{longId}}","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "userId");
        await AssertProblem(await cluster.Http.GetAsync($"/users/{longId}/recommendations"), HttpStatusCode.BadRequest, "id");
        await AssertProblem(await cluster.Http.GetAsync($"/users/{longId}/history"), HttpStatusCode.BadRequest, "id");
        await AssertProblem(await cluster.Http.GetAsync($"/items/{longId}"), HttpStatusCode.BadRequest, "id");
        var exactly256 = new string('u', 256);
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", $$"""{"userId":"{{exactly256}}","itemId":"1","type":"view"}""")).StatusCode);
    }

    [Fact]
    public async Task A_timestamp_more_than_a_day_ahead_is_rejected_and_one_within_a_day_accepted()
    {
        var user = User();
        var tooLate = DateTimeOffset.UtcNow.AddDays(1).AddMinutes(10).ToString("O");
        await AssertProblem(await PostJson("/events", $$"""[{"userId":"{{user}}","itemId":"1","type":"view","timestamp":"{{tooLate}}"}]"""),
            HttpStatusCode.BadRequest, "[0].timestamp");
        await AssertNoHistory(user);
        var soon = DateTimeOffset.UtcNow.AddHours(20).ToString("O");
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", $$"""{"userId":"{{user}}","itemId":"1","type":"view","timestamp":"{{soon}}"}""")).StatusCode);
    }

    [Fact]
    public async Task Unknown_items_in_a_batch_are_named_by_index_and_nothing_is_written()
    {
        var user = User();
        var json = $$"""[{"userId":"{{user}}","itemId":"1","type":"view"},{"userId":"{{user}}","itemId":"no-such-item","type":"view"}]""";
        var problem = await AssertProblem(await PostJson("/events", json), HttpStatusCode.BadRequest, "[1].itemId");
        Assert.Contains("no-such-item", problem.Errors!["[1].itemId"][0]);
        Assert.False(problem.Errors.ContainsKey("[0].itemId"));
        await AssertNoHistory(user);
    }

    [Theory]
    [InlineData("{\"userId\":\"u\",")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("42")]
    public async Task Malformed_or_empty_bodies_are_400_problems(string json) =>
        await AssertProblem(await PostJson("/events", json), HttpStatusCode.BadRequest, "body");

    [Fact]
    public async Task A_body_over_one_megabyte_is_413_and_writes_nothing()
    {
        var user = User();
        var one = $$"""{"userId":"{{user}}","itemId":"1","type":"view","eventId":"EVENT"}""";
        var json = "[" + string.Join(",", Enumerable.Range(0, 20_000).Select(i => one.Replace("EVENT", $"e{i}"))) + "]";
        Assert.True(Encoding.UTF8.GetByteCount(json) > 1024 * 1024);
        // As curl does for large bodies, the client asks before sending (Expect: 100-continue): the server's early 413
        // then arrives before any upload, instead of racing a connection the server closes while the body is in flight.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        await AssertProblem(await cluster.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge, "body");

        await AssertNoHistory(user);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1001")]
    [InlineData("ten")]
    [InlineData("")]
    public async Task K_outside_1_to_1000_is_rejected(string k)
    {
        await AssertProblem(await cluster.Http.GetAsync($"/users/1/recommendations?k={k}"), HttpStatusCode.BadRequest, "k");
        await AssertProblem(await cluster.Http.GetAsync($"/items/1/similar?k={k}"), HttpStatusCode.BadRequest, "k");
    }

    [Fact]
    public async Task An_excluded_id_that_is_blank_or_one_too_many_is_named()
    {
        var blank = await AssertProblem(await cluster.Http.GetAsync("/users/1/recommendations?excludeId=1&excludeId=%20"), HttpStatusCode.BadRequest, "excludeId");
        Assert.Equal("excludeId number 2 must not be blank.", blank.Errors!["excludeId"][0]);
        // The limit counts both forms together.
        var listed = string.Join(",", Enumerable.Range(1, 999));
        var exact = "&excludeId=x-1&excludeId=x-2";
        var tooMany = await AssertProblem(await cluster.Http.GetAsync($"/users/1/recommendations?exclude={listed}{exact}"), HttpStatusCode.BadRequest, "excludeId");
        Assert.Equal("exclude and excludeId name 1001 ids together; the limit is 1000.", tooMany.Errors!["excludeId"][0]);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync($"/users/1/recommendations?exclude={listed}{exact[..exact.LastIndexOf('&')]}")).StatusCode);
    }

    [Theory]
    [InlineData("/users/1/recommendations?top=5", "top")]
    [InlineData("/users/1/recommendations?k=5&exlude=2571", "exlude")]
    [InlineData("/users/1/history?limit=2&since=2026-01-01", "since")]
    [InlineData("/items/1/similar?k=3&id=2", "id")]
    [InlineData("/models?active=true", "active")]
    public async Task A_query_parameter_the_endpoint_does_not_read_is_named(string url, string parameter)
    {
        var problem = await AssertProblem(await cluster.Http.GetAsync(url), HttpStatusCode.BadRequest, parameter);
        Assert.Single(problem.Errors!);
    }

    [Fact]
    public async Task Query_parameter_names_match_without_regard_to_case_and_a_post_with_an_unknown_one_writes_nothing()
    {
        var reply = await cluster.GetJsonAsync<RecommendationsReply>("/users/1/recommendations?K=3&IncludeSeen=true");
        Assert.Equal(3, reply.Items.Count);
        var user = User();
        await AssertProblem(await PostJson("/events?dryRun=true", $$"""{"userId":"{{user}}","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "dryRun");
        await AssertNoHistory(user);
    }

    [Fact]
    public async Task Unknown_path_items_are_404_problems()
    {
        await AssertProblem(await cluster.Http.GetAsync("/items/no-such-item"), HttpStatusCode.NotFound, "id");
        await AssertProblem(await cluster.Http.GetAsync("/items/no-such-item/similar?k=5"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task Embeddings_of_the_wrong_length_are_rejected_and_the_item_is_not_stored()
    {
        var id = "bad-embedding-" + Guid.NewGuid().ToString("N");
        var shortVector = string.Join(",", Enumerable.Repeat("0.5", 15));
        var response = await cluster.Http.PutAsync($"/items/{id}", new StringContent($$"""{"title":"T","embedding":[{{shortVector}}]}""", Encoding.UTF8, "application/json"));
        var problem = await AssertProblem(response, HttpStatusCode.BadRequest, "embedding");
        Assert.Contains("16", problem.Errors!["embedding"][0]);
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");

        var good = string.Join(",", Enumerable.Repeat("0.5", 16));
        var batch = $$"""[{"id":"{{id}}","title":"Fine","embedding":[{{good}}]},{"id":"{{id}}-2","title":"Bad","embedding":[{{good}},1]}]""";
        await AssertProblem(await PostJson("/items", batch), HttpStatusCode.BadRequest, "[1].embedding");
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");
    }

    [Theory]
    [InlineData("""{"text":"no title"}""", "title")]
    [InlineData("""{"title":""}""", "title")]
    [InlineData("""{"title":"T","tags":"not-a-list"}""", "tags")]
    [InlineData("""{"title":"T","embedding":"nope"}""", "embedding")]
    [InlineData("""{"title":"T","embedding":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}""", "embedding")]
    [InlineData("""{"id":"other","title":"T"}""", "id")]
    [InlineData("""{"title":"T","description":"the text field is 'text'"}""", "description")]
    [InlineData("""[1,2]""", "body")]
    public async Task Bad_item_fields_are_named(string json, string field)
    {
        var id = "bad-item-" + Guid.NewGuid().ToString("N");
        await AssertProblem(await cluster.Http.PutAsync($"/items/{id}", new StringContent(json, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, field);
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task An_unknown_field_in_an_item_batch_is_named_and_no_item_of_it_is_stored()
    {
        var id = "unknown-field-" + Guid.NewGuid().ToString("N");
        var problem = await AssertProblem(await PostJson("/items", $$"""[{"id":"{{id}}","title":"A"},{"id":"{{id}}-2","title":"B","Tags":["x"]}]"""),
            HttpStatusCode.BadRequest, "[1].Tags");
        Assert.Contains("tags", problem.Errors!["[1].Tags"][0]);
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task Duplicate_ids_in_an_item_batch_are_named()
    {
        var id = "dup-" + Guid.NewGuid().ToString("N");
        await AssertProblem(await PostJson("/items", $$"""[{"id":"{{id}}","title":"A"},{"id":"{{id}}","title":"B"}]"""), HttpStatusCode.BadRequest, "[1].id");
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task Strings_that_are_not_valid_unicode_and_keys_given_twice_are_400_problems_that_write_nothing()
    {
        var user = User();
        // An escaped lone surrogate, then raw bytes that are not UTF-8: the parser accepts both, text cannot hold them.
        await AssertProblem(await PostJson("/events", $$"""{"userId":"{{user}}","itemId":"1","type":"view","eventId":"e\ud800"}"""), HttpStatusCode.BadRequest, "body");
        var invalidUtf8 = new ByteArrayContent([.. Encoding.UTF8.GetBytes($$"""{"userId":"{{user}}","itemId":"1","type":"view","eventId":"e"""), 0xFF, .. "\"}"u8]);
        invalidUtf8.Headers.ContentType = new("application/json");
        await AssertProblem(await cluster.Http.PostAsync("/events", invalidUtf8), HttpStatusCode.BadRequest, "body");
        var twice = await AssertProblem(await PostJson("/events", $$"""{"userId":"{{user}}","userId":"{{user}}-2","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "body");
        Assert.Contains("twice", twice.Errors!["body"][0]);
        await AssertNoHistory(user);
        await AssertNoHistory(user + "-2");
        var item = "text-" + Guid.NewGuid().ToString("N");
        await AssertProblem(await cluster.Http.PutAsync($"/items/{item}", new StringContent("""{"title":"\udc00"}""", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "body");
        await AssertProblem(await cluster.Http.GetAsync($"/items/{item}"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task Ids_with_control_characters_are_rejected()
    {
        var user = User();
        await AssertProblem(await PostJson("/events", $$"""{"userId":"{{user}}\n","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "userId");
        await AssertProblem(await PostJson("/items", """[{"id":"x\u0000","title":"T"}]"""), HttpStatusCode.BadRequest, "[0].id");
    }

    [Fact]
    public async Task An_id_holding_a_slash_is_reachable_by_its_escaped_path_and_differs_from_a_literal_percent_2F()
    {
        var user = User();
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", $$"""{"userId":"{{user}}/a","itemId":"1","type":"view"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", $$"""[{"userId":"{{user}}%2Fa","itemId":"2","type":"view"},{"userId":"{{user}}%2Fa","itemId":"3","type":"view"}]""")).StatusCode);
        var slash = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}%2Fa/history");
        Assert.Equal(1, slash.TotalCount);
        var percent = await cluster.GetJsonAsync<HistoryReply>($"/users/{user}%252Fa/history");
        Assert.Equal(2, percent.TotalCount);

        // An escape that is not UTF-8 is refused rather than kept as the three characters "%FF".
        var notUtf8 = await AssertProblem(await cluster.Http.GetAsync($"/users/{user}%FF/history"), HttpStatusCode.BadRequest, "id");
        Assert.Equal("The id's percent-escapes are not UTF-8 text.", notUtf8.Errors!["id"][0]);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync($"/users/{user}%C3%A9/history")).StatusCode);

        var item = "shelf/" + Guid.NewGuid().ToString("N");
        var escaped = Uri.EscapeDataString(item);
        Assert.Contains("%2F", escaped);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.PutAsync($"/items/{escaped}", new StringContent($$"""{"id":"{{item}}","title":"On a shelf"}""", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Contains(item, await cluster.Http.GetStringAsync($"/items/{escaped}"));
    }

    [Fact]
    public async Task Batches_over_the_per_request_limits_are_rejected_whole()
    {
        var user = User();
        var events = "[" + string.Join(",", Enumerable.Range(0, Limits.MaxEventsPerRequest + 1).Select(i => $$"""{"userId":"{{user}}-{{i % 3}}","itemId":"1","type":"view","eventId":"b{{i}}"}""")) + "]";
        var problem = await AssertProblem(await PostJson("/events", events), HttpStatusCode.BadRequest, "body");
        Assert.Contains(Limits.MaxEventsPerRequest.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.Errors!["body"][0]);
        for (var u = 0; u < 3; u++) await AssertNoHistory($"{user}-{u}");

        var prefix = "limit-" + Guid.NewGuid().ToString("N");
        var items = "[" + string.Join(",", Enumerable.Range(0, Limits.MaxItemsPerRequest + 1).Select(i => $$"""{"id":"{{prefix}}-{{i}}","title":"T{{i}}"}""")) + "]";
        await AssertProblem(await PostJson("/items", items), HttpStatusCode.BadRequest, "body");
        await AssertProblem(await cluster.Http.GetAsync($"/items/{prefix}-0"), HttpStatusCode.NotFound, "id");
    }

    [Theory]
    [InlineData("3e38")]
    [InlineData("2e6")]
    [InlineData("1e-45")]
    public async Task Embeddings_whose_norm_is_out_of_bounds_are_rejected(string value)
    {
        var id = "norm-" + Guid.NewGuid().ToString("N");
        var vector = string.Join(",", Enumerable.Repeat("0", 15).Prepend(value));
        var problem = await AssertProblem(await cluster.Http.PutAsync($"/items/{id}", new StringContent($$"""{"title":"T","embedding":[{{vector}}]}""", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "embedding");
        Assert.Contains("norm", problem.Errors!["embedding"][0]);
        await AssertProblem(await cluster.Http.GetAsync($"/items/{id}"), HttpStatusCode.NotFound, "id");
    }

    [Fact]
    public async Task A_repeated_single_value_filter_is_rejected_while_a_repeated_tag_means_any_of_them()
    {
        await AssertProblem(await cluster.Http.GetAsync("/users/1/recommendations?diversity=0.1&diversity=0.2"), HttpStatusCode.BadRequest, "diversity");
        await AssertProblem(await cluster.Http.GetAsync("/popular?offset=1&offset=2"), HttpStatusCode.BadRequest, "offset");
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/users/1/recommendations?tag=Comedy&tag=Drama&excludeTag=a&excludeTag=b")).StatusCode);
    }

    [Fact]
    public async Task Every_operation_of_the_openapi_document_may_be_a_503_that_says_whether_it_was_written()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Name: $"{operation.Name} {path.Name}", operation.Value))).ToList();
        Assert.Contains(operations, o => o.Name == "post /events");
        Assert.Contains(operations, o => o.Name == "get /items/{id}");
        foreach (var (name, operation) in operations)
        {
            Assert.True(operation.GetProperty("responses").TryGetProperty("503", out var unavailable), $"{name} documents no 503");
            Assert.Contains("mayHaveBeenWritten", unavailable.GetProperty("description").GetString());
            Assert.True(unavailable.GetProperty("headers").TryGetProperty("Retry-After", out _), $"{name}: no Retry-After on its 503");
            Assert.True(unavailable.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{name}: its 503 is not a problem");
        }
    }

    [Fact]
    public async Task The_openapi_document_lists_the_endpoints()
    {
        var document = await cluster.Http.GetStringAsync("/openapi/v1.json");
        foreach (var path in new[] { "/events", "/users/{id}/recommendations", "/recommendations", "/users/{id}/history", "/items/{id}", "/items", "/items/{id}/similar" })
            Assert.Contains($"\"{path}\"", document);
    }

    [Fact]
    public async Task The_openapi_document_gives_query_parameters_their_types_and_bounds_and_says_what_scores_are()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        System.Text.Json.JsonElement Schema(string path, string name) => paths.GetProperty(path).GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("schema");

        foreach (var path in new[] { "/users/{id}/recommendations", "/items/{id}/similar" })
        {
            var k = Schema(path, "k");
            Assert.Equal("integer", k.GetProperty("type").GetString());
            Assert.Equal(1, k.GetProperty("minimum").GetInt32());
            Assert.Equal(Recommender.Abstractions.Limits.MaxK, k.GetProperty("maximum").GetInt32());
            Assert.Equal(Recommender.Abstractions.Limits.DefaultK, k.GetProperty("default").GetInt32());
        }
        Assert.Equal("boolean", Schema("/users/{id}/recommendations", "includeSeen").GetProperty("type").GetString());
        Assert.Equal("boolean", Schema("/users/{id}/recommendations", "explain").GetProperty("type").GetString());
        Assert.Equal("integer", Schema("/users/{id}/history", "limit").GetProperty("type").GetString());

        var item = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("RecommendedItem").GetProperty("properties");
        Assert.Contains("softmax", item.GetProperty("score").GetProperty("description").GetString());
        Assert.Contains("popularity", item.GetProperty("similarity").GetProperty("description").GetString());
    }

    [Theory]
    [InlineData("EventRequest", "userId,itemId,type")]
    [InlineData("ItemRequest", "title")]
    [InlineData("SessionRequest", "items")]
    [InlineData("UsersRequest", "users")]
    [InlineData("ScenarioRequest", "")]
    public async Task The_openapi_request_schemas_list_exactly_the_fields_the_validation_accepts(string schema, string required)
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var shape = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty(schema);
        var accepted = schema switch
        {
            "EventRequest" => Recommender.Api.Validation.EventBatch.FieldNames,
            "ItemRequest" => Recommender.Api.Validation.ItemBatch.FieldNames,
            "SessionRequest" => Recommender.Api.Validation.SessionBody.FieldNames,
            "ScenarioRequest" => Recommender.Api.Validation.ScenarioBody.FieldNames,
            _ => Recommender.Api.Validation.UsersBody.FieldNames,
        };
        Assert.Equal(accepted.Order(), shape.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(required.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(),
            shape.TryGetProperty("required", out var fields) ? fields.EnumerateArray().Select(r => r.GetString()!).Order() : []);
        Assert.False(shape.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_bodies_as_they_are_accepted()
    {
        using var document = System.Text.Json.JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths");
        System.Text.Json.JsonElement Operation(string path, string method) => paths.GetProperty(path).GetProperty(method);

        // One event or an array of them.
        var events = Operation("/events", "post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("oneOf");
        Assert.Equal(["#/components/schemas/EventRequest", "array"],
            events.EnumerateArray().Select(s => s.TryGetProperty("$ref", out var r) ? r.GetString()! : s.GetProperty("type").GetString()!));

        // What an event's fields accept beyond plain strings: integer ids, Unix-second timestamps, the event types.
        var fields = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("EventRequest").GetProperty("properties");
        string[] Types(string field) => [.. fields.GetProperty(field).GetProperty("type").EnumerateArray().Select(t => t.GetString()!).Order()];
        Assert.Equal(["integer", "string"], Types("userId"));
        Assert.Equal(["integer", "null", "string"], Types("timestamp"));

        // A session's items: ids as an event's are, at most the limit.
        var sessionItems = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("SessionRequest").GetProperty("properties").GetProperty("items");
        Assert.Equal(Recommender.Abstractions.Limits.MaxSessionItems, sessionItems.GetProperty("maxItems").GetInt32());
        Assert.Equal(["integer", "string"], sessionItems.GetProperty("items").GetProperty("type").EnumerateArray().Select(t => t.GetString()!).Order());
        Assert.Equal("#/components/schemas/SessionRequest", Operation("/recommendations", "post").GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal(Enum.GetValues<EventType>().Select(EventTypes.Name), fields.GetProperty("type").GetProperty("enum").EnumerateArray().Select(t => t.GetString()!));

        // A model package: one binary part per file, the three package files required, nothing else accepted.
        var form = Operation("/models", "post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal(["embeddings", "encoder", "manifest", "text_projection"], form.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        Assert.All(form.GetProperty("properties").EnumerateObject(), p => Assert.Equal("binary", p.Value.GetProperty("format").GetString()));
        Assert.Equal(["embeddings", "encoder", "manifest"], form.GetProperty("required").EnumerateArray().Select(r => r.GetString()!).Order());
        Assert.False(form.GetProperty("additionalProperties").GetBoolean());

        foreach (var (path, method) in new[] { ("/events", "post"), ("/items/{id}", "put"), ("/items", "post"), ("/models", "post") })
            Assert.True(Operation(path, method).GetProperty("responses").TryGetProperty("415", out _), $"{method} {path} does not list 415");
    }

    [Fact]
    public async Task A_body_of_the_wrong_content_type_is_a_415_that_says_what_is_accepted()
    {
        var user = User();
        using var response = await cluster.Http.PostAsync("/events", new StringContent($$"""{"userId":"{{user}}","itemId":"1","type":"view"}""", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemReply>();
        Assert.StartsWith("The body's Content-Type ('text/plain; charset=utf-8') is not accepted here", problem!.Detail);
        Assert.Contains("application/json", problem.Detail);
        await AssertNoHistory(user);
    }

    [Fact]
    public async Task Ids_are_measured_in_characters_kept_as_written_and_their_problems_named_precisely()
    {
        // 200 emoji are 400 UTF-16 code units but 200 characters: within the limit of 256.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F642", 200));
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", $$"""{"userId":"{{emoji}}","itemId":"1","type":"view"}""")).StatusCode);
        Assert.Equal(1, (await cluster.GetJsonAsync<HistoryReply>($"/users/{Uri.EscapeDataString(emoji)}/history")).TotalCount);
        var tooLong = await AssertProblem(await PostJson("/events", $$"""{"userId":"{{emoji + emoji}}","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "userId");
        Assert.Equal("'userId' is 400 characters long; the limit is 256.", tooLong.Errors!["userId"][0]);

        // An integer id is taken as written: -0 is not the user "0".
        var zero = (await cluster.GetJsonAsync<HistoryReply>("/users/0/history")).TotalCount;
        Assert.Equal(HttpStatusCode.OK, (await PostJson("/events", """{"userId":-0,"itemId":"1","type":"view","eventId":"minus-zero"}""")).StatusCode);
        Assert.Contains("minus-zero", (await cluster.GetJsonAsync<HistoryReply>("/users/-0/history")).Events.Select(e => e.EventId));
        Assert.Equal(zero, (await cluster.GetJsonAsync<HistoryReply>("/users/0/history")).TotalCount);

        var control = await AssertProblem(await cluster.Http.GetAsync("/users/%0a/history"), HttpStatusCode.BadRequest, "id");
        Assert.Equal("The id must not contain control characters.", control.Errors!["id"][0]);
        var blank = await AssertProblem(await cluster.Http.GetAsync("/users/%20%20/history"), HttpStatusCode.BadRequest, "id");
        Assert.Equal("The id must not be blank.", blank.Errors!["id"][0]);
        var invisible = await AssertProblem(await PostJson("/events", """{"userId":"\u200b","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "userId");
        Assert.Equal("'userId' must not be blank.", invisible.Errors!["userId"][0]);
        var separator = await AssertProblem(await PostJson("/events", """{"userId":"a\u2028b","itemId":"1","type":"view"}"""), HttpStatusCode.BadRequest, "userId");
        Assert.Equal("'userId' must not contain line or paragraph separators.", separator.Errors!["userId"][0]);
        var dots = await PostJson("/items", """[{"id":"..","title":"Dots"}]""");
        Assert.Equal(HttpStatusCode.BadRequest, dots.StatusCode);
        Assert.Contains("must not be '.' or '..'", await dots.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_repeated_query_parameter_and_a_too_deep_body_are_named_as_such()
    {
        var repeated = await AssertProblem(await cluster.Http.GetAsync("/users/1/recommendations?k=5&K=10"), HttpStatusCode.BadRequest, "k");
        Assert.Equal("'k' may be given once; it was given 2 times.", repeated.Errors!["k"][0]);
        // exclude is a list: given twice, both lists apply; excludeId is one id a time, given as often as needed.
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/users/1/recommendations?exclude=1&exclude=2")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/users/1/recommendations?excludeId=1&ExcludeId=a%2Cb")).StatusCode);

        var deep = string.Concat(Enumerable.Repeat("[", 40)) + string.Concat(Enumerable.Repeat("]", 40));
        var problem = await AssertProblem(await PostJson("/events", deep), HttpStatusCode.BadRequest, "body");
        Assert.Contains("nests deeper than 32 levels", problem.Errors!["body"][0]);

        // A body cut short is not called too deep.
        foreach (var truncated in new[] { "{\"userId\":", "[{\"userId\":\"u\"}" })
        {
            var message = (await AssertProblem(await PostJson("/events", truncated), HttpStatusCode.BadRequest, "body")).Errors!["body"][0];
            Assert.Contains("ends before every object and array is closed", message);
            Assert.DoesNotContain("deeper", message);
        }
    }

    [Fact]
    public async Task Health_and_metrics_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cluster.Http.GetAsync("/health/ready")).StatusCode);
        await cluster.Http.GetAsync("/users/1/recommendations?k=3");
        var metrics = await cluster.Http.GetStringAsync("/metrics");
        Assert.Contains("recommender_recommendation_duration", metrics);
        Assert.Contains("service_name=\"recommender-api\"", metrics);
    }
}
