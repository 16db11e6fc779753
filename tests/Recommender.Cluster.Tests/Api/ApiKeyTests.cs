using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A front end with API keys, on the shared cluster: no key or a wrong one is a 401 problem that writes nothing, a
/// client key serves the application but not the admin operations (403), an admin key does everything, and health,
/// OpenAPI and metrics stay open.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class ApiKeyTests(SmallCatalogueCluster cluster) : IAsyncLifetime
{
    private const string AdminKey = "admin-0123456789abcdef0123456789";
    private const string ClientKey = "client-0123456789abcdef012345678";
    private WebApplication _api = null!;
    private Uri _address = null!;

    public async Task InitializeAsync() =>
        (_api, _address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?>
        {
            ["Recommender:ApiKeys:Admin"] = AdminKey,
            ["Recommender:ApiKeys:Client:0"] = ClientKey,
        });

    public async Task DisposeAsync()
    {
        await _api.StopAsync();
        await _api.DisposeAsync();
    }

    private HttpClient Client(string? bearer = null, string? header = null)
    {
        var http = new HttpClient { BaseAddress = _address, Timeout = TimeSpan.FromSeconds(60) };
        if (bearer is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (header is not null) http.DefaultRequestHeaders.Add("X-Api-Key", header);
        return http;
    }

    private static object Event(string user) => new { userId = user, itemId = "5", type = "view", timestamp = "2024-03-01T09:00:00Z" };

    private static async Task<ProblemReply> Problem(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
    }

    private async Task<long> EventsOf(string user)
    {
        using var admin = Client(AdminKey);
        return (await admin.GetFromJsonAsync<HistoryReply>($"/users/{user}/history"))!.TotalCount;
    }

    [Fact]
    public async Task Without_a_valid_key_the_api_answers_401_and_writes_nothing()
    {
        var user = "keyless-" + Guid.NewGuid().ToString("N");
        using (var anonymous = Client())
        {
            using var missing = await anonymous.PostAsJsonAsync("/events", Event(user));
            Assert.Contains("needs an API key", (await Problem(missing, HttpStatusCode.Unauthorized)).Detail);
            Assert.Equal("Bearer realm=\"recommender\"", missing.Headers.WwwAuthenticate.ToString());
            // The key is checked before anything else: an unknown parameter does not reveal the endpoint's parameters.
            using var unknownParameter = await anonymous.GetAsync($"/users/{user}/recommendations?bogus=1");
            Assert.Contains("needs an API key", (await Problem(unknownParameter, HttpStatusCode.Unauthorized)).Detail);
            using var session = await anonymous.PostAsJsonAsync("/recommendations?k=3", new { items = new[] { "5" } });
            Assert.Contains("needs an API key", (await Problem(session, HttpStatusCode.Unauthorized)).Detail);
        }
        using (var wrong = Client("wrong-0123456789abcdef0123456789"))
        {
            using var response = await wrong.PostAsJsonAsync("/events", Event(user));
            Assert.Equal("The API key is not valid.", (await Problem(response, HttpStatusCode.Unauthorized)).Detail);
            Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        }
        using (var twoKeys = Client(ClientKey, AdminKey))
        {
            using var response = await twoKeys.PostAsJsonAsync("/events", Event(user));
            Assert.Contains("different keys", (await Problem(response, HttpStatusCode.Unauthorized)).Detail);
        }
        using (var basic = Client())
        {
            basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("user:pass"u8.ToArray()));
            using var response = await basic.PostAsJsonAsync("/events", Event(user));
            Assert.Contains("must be one 'Bearer <key>'", (await Problem(response, HttpStatusCode.Unauthorized)).Detail);
        }
        Assert.Equal(0, await EventsOf(user));
    }

    [Fact]
    public async Task Without_a_key_an_unknown_path_method_or_content_type_is_a_401_too_and_with_one_it_is_named()
    {
        using var anonymous = Client();
        using var client = Client(ClientKey);
        using (var unknown = await anonymous.GetAsync("/no-such-endpoint")) Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        using (var unknown = await client.GetAsync("/no-such-endpoint")) Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using (var method = await anonymous.GetAsync("/events")) Assert.Equal(HttpStatusCode.Unauthorized, method.StatusCode);
        using (var method = await client.GetAsync("/events")) Assert.Equal(HttpStatusCode.MethodNotAllowed, method.StatusCode);
        using (var text = await anonymous.PostAsync("/events", new StringContent("x"))) Assert.Equal(HttpStatusCode.Unauthorized, text.StatusCode);
        using (var text = await client.PostAsync("/events", new StringContent("x"))) Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
    }

    [Fact]
    public async Task A_client_key_serves_the_application_but_not_the_admin_operations()
    {
        var user = "client-" + Guid.NewGuid().ToString("N");
        foreach (var client in new[] { Client(ClientKey), Client(header: ClientKey), Client(ClientKey, ClientKey) })
            using (client)
            {
                using var posted = await client.PostAsJsonAsync("/events", Event(user));
                Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
                var recommendations = await client.GetFromJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=3");
                Assert.Equal(3, recommendations!.Items.Count);
                using var session = await client.PostAsJsonAsync("/recommendations?k=3", new { items = new[] { "5" } });
                Assert.Equal(3, (await session.Content.ReadFromJsonAsync<SessionRecommendationsReply>())!.Items.Count);
                using var models = await client.GetAsync("/models");
                Assert.Equal(HttpStatusCode.OK, models.StatusCode);
                using var lookup = await client.PostAsJsonAsync("/items/lookup", new[] { "5" });
                Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
                // Taking back an event the user did not mean is the application's to do (nothing here to take back).
                using var takeBack = await client.DeleteAsync($"/users/{user}/items/no-such-item");
                Assert.Equal(HttpStatusCode.OK, takeBack.StatusCode);
            }
        Assert.Equal(1, await EventsOf(user));
        using (var anonymous = Client())
        using (var refused = await anonymous.DeleteAsync($"/users/{user}/events/any"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        using var http = Client(ClientKey);
        foreach (var (method, path) in new[] { (HttpMethod.Get, "/events/export"), (HttpMethod.Get, "/catalogue/export"), (HttpMethod.Post, "/models/rollback"),
                     (HttpMethod.Post, "/models/anything/activate"), (HttpMethod.Post, "/models"), (HttpMethod.Delete, "/models/anything"),
                     (HttpMethod.Post, "/models/anything/candidate?share=0.5"), (HttpMethod.Delete, "/models/anything/candidate"),
                     (HttpMethod.Delete, $"/users/{user}"), (HttpMethod.Delete, "/items/5"), (HttpMethod.Post, "/items/delete"), (HttpMethod.Get, "/scenarios"), (HttpMethod.Get, "/scenarios/home"),
                     (HttpMethod.Put, "/scenarios/home"), (HttpMethod.Delete, "/scenarios/home"), (HttpMethod.Put, "/scenarios"), (HttpMethod.Patch, "/scenarios"),
                     (HttpMethod.Get, "/scenario-history"), (HttpMethod.Get, "/scenario-history/0"), (HttpMethod.Post, "/scenario-history/0/restore") })
        {
            using var response = await http.SendAsync(new HttpRequestMessage(method, path));
            Assert.Contains("needs an admin key", (await Problem(response, HttpStatusCode.Forbidden)).Detail);
        }
        Assert.Equal(1, await EventsOf(user));
        // The refused deletion left the item.
        using (var item = await http.GetAsync("/items/5"))
            Assert.Equal(HttpStatusCode.OK, item.StatusCode);
    }

    [Fact]
    public async Task An_admin_key_may_export_erase_and_define_scenarios()
    {
        var user = "admin-" + Guid.NewGuid().ToString("N");
        using var http = Client(AdminKey);
        using (var posted = await http.PostAsJsonAsync("/events", Event(user)))
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        Assert.Contains(user + ",5,view,", await http.GetStringAsync("/events/export"));
        Assert.Contains("{\"id\":\"5\",", await http.GetStringAsync("/catalogue/export"));
        using var erased = await http.DeleteAsync($"/users/{user}");
        Assert.Equal(new ErasedUserReply(user, 1), await erased.Content.ReadFromJsonAsync<ErasedUserReply>());
        Assert.Equal(0, await EventsOf(user));

        // An admin key defines a scenario; a client key reads lists under it.
        var scenario = "keys-" + Guid.NewGuid().ToString("N");
        using (var put = await http.PutAsJsonAsync($"/scenarios/{scenario}", new { cap = new[] { "Drama:1" } }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        // The history says which key made the change.
        var change = (await http.GetFromJsonAsync<System.Text.Json.JsonElement>("/scenario-history?limit=1")).GetProperty("changes")[0];
        Assert.Equal(("admin key 1", scenario), (change.GetProperty("by").GetString(), change.GetProperty("changes")[0].GetProperty("name").GetString()));
        using var client = Client(ClientKey);
        using var list = await client.GetAsync($"/users/{user}/recommendations?k=3&scenario={scenario}");
        Assert.True(list.IsSuccessStatusCode, await list.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_openapi_and_metrics_stay_open_and_the_document_declares_the_keys()
    {
        using var anonymous = Client();
        foreach (var path in new[] { "/health/live", "/health/ready", "/metrics" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
        using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
        var schemes = document.RootElement.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.Equal("X-Api-Key", schemes.GetProperty("apiKey").GetProperty("name").GetString());
        var paths = document.RootElement.GetProperty("paths");
        foreach (var path in new[] { "/events/export", "/catalogue/export" })
        {
            var export = paths.GetProperty(path).GetProperty("get");
            Assert.Equal(2, export.GetProperty("security").GetArrayLength());
            Assert.True(export.GetProperty("responses").TryGetProperty("403", out _));
        }
        var recommend = paths.GetProperty("/users/{id}/recommendations").GetProperty("get");
        Assert.True(recommend.GetProperty("responses").TryGetProperty("401", out _));
        Assert.False(recommend.GetProperty("responses").TryGetProperty("403", out _));

        // The shared cluster's own front end has no keys: it stays open and its document declares none.
        using var open = JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        Assert.False(open.RootElement.TryGetProperty("components", out var components) && components.TryGetProperty("securitySchemes", out _));
    }
}
