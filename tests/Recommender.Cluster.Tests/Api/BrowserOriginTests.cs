using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A front end with allowed browser origins (CORS), on the shared cluster: a preflight is answered without an API key,
/// the answers an allowed page reads carry its origin (refusals included, with Retry-After readable), and another origin
/// gets nothing a browser would let it read.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class BrowserOriginTests(SmallCatalogueCluster cluster) : IAsyncLifetime
{
    private const string Shop = "https://shop.example";
    private const string AdminKey = "admin-0123456789abcdef0123456789";
    private WebApplication _api = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        Uri address;
        (_api, address) = await cluster.StartFrontEndAsync(new Dictionary<string, string?>
        {
            // A trailing slash and a default port written out name the same origins.
            ["Recommender:Cors:AllowedOrigins"] = $"{Shop}:443/, http://localhost:3000",
            ["Recommender:ApiKeys:Admin"] = AdminKey,
            ["Recommender:RateLimit:RequestsPerSecond"] = "1",
            ["Recommender:RateLimit:Burst"] = "2",
        });
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.StopAsync();
        await _api.DisposeAsync();
    }

    private static HttpRequestMessage From(string origin, HttpMethod method, string path, string? key = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Origin", origin);
        if (key is not null) request.Headers.Add("Authorization", $"Bearer {key}");
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_without_a_key()
    {
        using var preflight = From(Shop, HttpMethod.Options, "/recommendations");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type, authorization, idempotency-key");
        using var response = await _http.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Shop, Header(response, "Access-Control-Allow-Origin"));
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods"));
        Assert.Contains("Idempotency-Key", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        // A page that edits scenarios sends PATCH with If-Match and reads the ETag of the answer.
        using var edit = From(Shop, HttpMethod.Options, "/scenarios");
        edit.Headers.Add("Access-Control-Request-Method", "PATCH");
        edit.Headers.Add("Access-Control-Request-Headers", "content-type, authorization, if-match");
        using (var allowed = await _http.SendAsync(edit))
        {
            Assert.Contains("PATCH", Header(allowed, "Access-Control-Allow-Methods"));
            Assert.Contains("If-Match", Header(allowed, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        }

        // A header the API does not read is not among those allowed (the browser then does not send the request); another origin gets nothing.
        using var odd = From(Shop, HttpMethod.Options, "/recommendations");
        odd.Headers.Add("Access-Control-Request-Method", "POST");
        odd.Headers.Add("Access-Control-Request-Headers", "x-something-else");
        using (var refused = await _http.SendAsync(odd))
            Assert.DoesNotContain("x-something-else", Header(refused, "Access-Control-Allow-Headers") ?? "", StringComparison.OrdinalIgnoreCase);
        using var other = From("https://elsewhere.example", HttpMethod.Options, "/recommendations");
        other.Headers.Add("Access-Control-Request-Method", "POST");
        using (var refused = await _http.SendAsync(other)) Assert.Null(Header(refused, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task An_allowed_page_reads_answers_and_refusals_and_another_origin_reads_nothing()
    {
        using (var ok = await _http.SendAsync(From("http://localhost:3000", HttpMethod.Get, "/models", AdminKey)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("http://localhost:3000", Header(ok, "Access-Control-Allow-Origin"));
        }
        // A refusal is readable too, so the page can show why: a 401 without a key, a 429 with its Retry-After.
        using (var noKey = await _http.SendAsync(From(Shop, HttpMethod.Get, "/models")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
            Assert.Equal(Shop, Header(noKey, "Access-Control-Allow-Origin"));
        }
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var response = await _http.SendAsync(From(Shop, HttpMethod.Get, "/models", AdminKey));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
            else response.Dispose();
        }
        Assert.NotNull(limited);
        using (limited)
        {
            Assert.Equal(Shop, Header(limited, "Access-Control-Allow-Origin"));
            Assert.Contains("Retry-After", Header(limited, "Access-Control-Expose-Headers"));
            Assert.Contains("ETag", Header(limited, "Access-Control-Expose-Headers"));
            Assert.Equal(429, (await limited.Content.ReadFromJsonAsync<ProblemReply>())!.Status);
        }

        using var elsewhere = await _http.SendAsync(From("https://elsewhere.example", HttpMethod.Get, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Null(Header(elsewhere, "Access-Control-Allow-Origin"));

        // The shared front end has no origins set: nothing says CORS.
        using var open = new HttpRequestMessage(HttpMethod.Get, "/health/live");
        open.Headers.Add("Origin", Shop);
        using var plain = await cluster.Http.SendAsync(open);
        Assert.Null(Header(plain, "Access-Control-Allow-Origin"));
    }
}
