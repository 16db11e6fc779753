using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Recommender.Cluster.Tests.Infrastructure;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// Front ends with a rate limit, on the shared cluster: a caller past its burst is answered 429 with a problem and
/// Retry-After, and the refused request writes nothing; each API key has a bucket of its own (without keys, each
/// address); health, OpenAPI and metrics are not limited; a caller that waits as told is served again.
/// </summary>
[Collection(SmallClusterCollection.Name)]
public sealed class RateLimitTests(SmallCatalogueCluster cluster)
{
    private const string AdminKey = "admin-0123456789abcdef0123456789";
    private const string ClientKey = "client-0123456789abcdef012345678";
    private const int Burst = 3;

    private static Dictionary<string, string?> Limit(bool keys)
    {
        // One request a second after a burst of three: a test's requests come faster than that.
        var settings = new Dictionary<string, string?>
        {
            ["Recommender:RateLimit:RequestsPerSecond"] = "1",
            ["Recommender:RateLimit:Burst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (keys)
        {
            settings["Recommender:ApiKeys:Admin"] = AdminKey;
            settings["Recommender:ApiKeys:Client"] = ClientKey;
        }
        return settings;
    }

    private static HttpClient Client(Uri address, string? key = null)
    {
        var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static object Event(string user) => new { userId = user, itemId = "5", type = "view", timestamp = "2024-03-01T09:00:00Z" };

    private async Task<long> EventsOf(string user) =>
        (await cluster.Http.GetFromJsonAsync<HistoryReply>($"/users/{user}/history"))!.TotalCount;

    /// <summary>Sends one user's event at a time until one is refused; returns the users whose events were accepted, and the refusal.</summary>
    private static async Task<(List<string> Accepted, string RefusedUser, HttpResponseMessage Refusal)> PostUntilRefused(HttpClient http)
    {
        var accepted = new List<string>();
        // The bucket refills at one a second: however slow the machine, twenty requests take it past its burst.
        for (var i = 0; i < 20; i++)
        {
            var user = "limited-" + Guid.NewGuid().ToString("N");
            var response = await http.PostAsJsonAsync("/events", Event(user));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return (accepted, user, response);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            response.Dispose();
            accepted.Add(user);
        }
        Assert.Fail("Twenty requests in a row were all accepted under a limit of one a second.");
        throw new InvalidOperationException();
    }

    private static async Task<ProblemReply> TooMany(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { TotalSeconds: >= 1 and <= 2 }, $"Retry-After: {response.Headers.RetryAfter}");
        return (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
    }

    [Fact]
    public async Task A_key_past_its_burst_is_refused_with_a_429_that_writes_nothing_while_other_keys_and_probes_go_on()
    {
        var (api, address) = await cluster.StartFrontEndAsync(Limit(keys: true));
        try
        {
            using var client = Client(address, ClientKey);
            var (accepted, refusedUser, refusal) = await PostUntilRefused(client);
            using (refusal)
            {
                Assert.InRange(accepted.Count, Burst, Burst + 3);
                var problem = await TooMany(refusal);
                Assert.Equal("Too many requests.", problem.Title);
                Assert.Contains("(client key 1) may send 1 request(s) a second (after a quiet spell, 3 at once)", problem.Detail);
                Assert.DoesNotContain(ClientKey, problem.Detail);
            }
            foreach (var user in accepted) Assert.Equal(1, await EventsOf(user));
            Assert.Equal(0, await EventsOf(refusedUser));

            // Reads and other operations count against the same bucket.
            using (var read = await client.GetAsync("/users/alice/recommendations?k=3"))
                Assert.Equal(HttpStatusCode.TooManyRequests, read.StatusCode);

            // The admin key has a bucket of its own; probes and scrapers are not limited at all.
            using (var admin = Client(address, AdminKey))
            using (var models = await admin.GetAsync("/models"))
                Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            using var anonymous = Client(address);
            for (var i = 0; i < 2 * Burst; i++)
                foreach (var path in new[] { "/health/live", "/openapi/v1.json", "/metrics" })
                {
                    using var response = await anonymous.GetAsync(path);
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
                }
            // A missing key is still a 401, not counted against anyone.
            using (var keyless = await anonymous.PostAsJsonAsync("/events", Event("keyless")))
                Assert.Equal(HttpStatusCode.Unauthorized, keyless.StatusCode);

            // A client that waits as told is served again.
            await Task.Delay(TimeSpan.FromSeconds(2));
            var again = "limited-" + Guid.NewGuid().ToString("N");
            using (var posted = await client.PostAsJsonAsync("/events", Event(again)))
                Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
            Assert.Equal(1, await EventsOf(again));

            // The refusals are counted by the ASP.NET Core rate-limiting meter, which /metrics exports.
            var metrics = await anonymous.GetStringAsync("/metrics");
            Assert.Matches("aspnetcore_rate_limiting_requests_total\\{[^}]*aspnetcore_rate_limiting_result=\"endpoint_limiter\"[^}]*\\} [1-9]", metrics);

            // The document names the answer and its header on the API's operations, and not on the probes'.
            using var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json"));
            var paths = document.RootElement.GetProperty("paths");
            var limited = paths.GetProperty("/events").GetProperty("post").GetProperty("responses").GetProperty("429");
            Assert.Contains("Retry-After", limited.GetProperty("description").GetString());
            Assert.True(limited.GetProperty("headers").TryGetProperty("Retry-After", out _));
            Assert.True(paths.GetProperty("/users/{id}/recommendations").GetProperty("get").GetProperty("responses").TryGetProperty("429", out _));
        }
        finally
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }

        // Without a limit (the shared front end) nothing says 429.
        using var open = JsonDocument.Parse(await cluster.Http.GetStringAsync("/openapi/v1.json"));
        Assert.False(open.RootElement.GetProperty("paths").GetProperty("/events").GetProperty("post").GetProperty("responses").TryGetProperty("429", out _));
    }

    [Fact]
    public async Task Without_keys_each_address_has_a_bucket()
    {
        var (api, address) = await cluster.StartFrontEndAsync(Limit(keys: false));
        try
        {
            using var http = Client(address);
            var (accepted, refusedUser, refusal) = await PostUntilRefused(http);
            using (refusal)
            {
                Assert.InRange(accepted.Count, Burst, Burst + 3);
                Assert.Contains("(address 127.0.0.1) may send 1 request(s) a second", (await TooMany(refusal)).Detail);
            }
            Assert.Equal(0, await EventsOf(refusedUser));
        }
        finally
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }
    }

    [Fact]
    public async Task Behind_a_proxy_with_forwarded_headers_on_each_forwarded_address_has_a_bucket()
    {
        // ASPNETCORE_FORWARDEDHEADERS_ENABLED=true, as a node behind a load balancer or ingress is started.
        var settings = Limit(keys: false);
        settings["FORWARDEDHEADERS_ENABLED"] = "true";
        var (api, address) = await cluster.StartFrontEndAsync(settings);
        try
        {
            using var first = Client(address);
            first.DefaultRequestHeaders.Add("X-Forwarded-For", "10.0.0.7");
            var (_, _, refusal) = await PostUntilRefused(first);
            using (refusal) Assert.Contains("(address 10.0.0.7)", (await TooMany(refusal)).Detail);

            // Another client behind the same proxy still has its whole burst.
            using var second = Client(address);
            second.DefaultRequestHeaders.Add("X-Forwarded-For", "10.0.0.8");
            for (var i = 0; i < Burst; i++)
            {
                using var response = await second.GetAsync("/models");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }
        finally
        {
            await api.StopAsync();
            await api.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_the_cluster_scope_two_front_ends_together_let_a_key_send_its_allowance_once()
    {
        var settings = Limit(keys: true);
        settings["Recommender:RateLimit:Scope"] = "Cluster";
        var (firstApi, firstAddress) = await cluster.StartFrontEndAsync(settings);
        await using var first = firstApi;
        var (secondApi, secondAddress) = await cluster.StartFrontEndAsync(settings);
        await using var second = secondApi;
        using var one = Client(firstAddress, ClientKey);
        using var other = Client(secondAddress, ClientKey);

        // Alternating between the two: each counting on its own would let the key send its burst to each.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var accepted = new List<string>();
        HttpResponseMessage? refusal = null;
        for (var i = 0; i < 20 && refusal is null; i++)
        {
            var user = "cluster-limited-" + Guid.NewGuid().ToString("N");
            var response = await (i % 2 == 0 ? one : other).PostAsJsonAsync("/events", Event(user));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refusal = response;
            else
            {
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                accepted.Add(user);
                response.Dispose();
            }
        }
        var elapsed = clock.Elapsed;
        Assert.NotNull(refusal);
        using (refusal)
        {
            // The burst, and what the bucket refilled at one a second while the requests were sent.
            Assert.InRange(accepted.Count, Burst, Burst + (int)Math.Ceiling(elapsed.TotalSeconds));
            var problem = await TooMany(refusal);
            Assert.Contains("to all front ends together", problem.Detail);
        }
        foreach (var user in accepted) Assert.Equal(1, await EventsOf(user));

        // Another key's allowance is its own, on either front end.
        using var admin = Client(secondAddress, AdminKey);
        using (var posted = await admin.PostAsJsonAsync("/events", Event("cluster-admin-" + Guid.NewGuid().ToString("N"))))
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        await first.StopAsync();
        await second.StopAsync();
    }
}
