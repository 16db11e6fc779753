using System.Text.Json;
using System.Text.RegularExpressions;
using Recommender.Cluster.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Recommender.Cluster.Tests.Api;

/// <summary>
/// A cluster of its own: accepted mutations write items with embeddings and retitle catalogue items (an integer id is
/// taken as written), which other tests' expectations of the small catalogue would not survive.
/// </summary>
public sealed class MutatedRequestCluster() : ClusterFixture(ClusterFixtureOptions.ForSmallCatalogue("mutated-requests"));

/// <summary>
/// Valid requests changed the way a faulty client would change them (<see cref="RequestMutator"/>): none is answered
/// with a server error, every refusal is a problem-details document of its status, and a refused write leaves the
/// histories, items and models it could have written as they were. ValidationTests has the cases written out one by
/// one; these cover the combinations.
/// </summary>
public sealed partial class MutatedRequestTests(MutatedRequestCluster cluster, ITestOutputHelper output) : IClassFixture<MutatedRequestCluster>
{
    private const int RandomRequests = 500;

    [GeneratedRegex("\"traceId\":\"[^\"]*\"")]
    private static partial Regex TraceId();

    [Fact]
    public async Task Every_field_of_every_write_given_an_odd_value_left_out_or_renamed_gets_no_server_error_and_a_refusal_writes_nothing()
    {
        var mutator = new RequestMutator(0, Prefix(), cluster.Options.SeedDimension);
        var outcome = await SendAllAsync(mutator.EveryFieldChange());

        Assert.True(outcome.Failures.Count == 0, string.Join("\n", outcome.Failures.Take(20)));
        // Some changes leave a write valid (another number, a string id), most do not.
        Assert.InRange(outcome.Accepted, 20, outcome.Refused);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Requests_changed_at_random_get_no_server_error_and_a_refusal_writes_nothing(int seed)
    {
        var mutator = new RequestMutator(seed, Prefix(), cluster.Options.SeedDimension);
        var outcome = await SendAllAsync(Enumerable.Range(0, RandomRequests).Select(_ => mutator.Next()));

        Assert.True(outcome.Failures.Count == 0, string.Join("\n", outcome.Failures.Take(20)));
        Assert.InRange(outcome.Accepted, RandomRequests / 50, RandomRequests / 2);
        Assert.InRange(outcome.Refused, RandomRequests / 2, RandomRequests);
    }

    private static string Prefix() => "mutated-" + Guid.NewGuid().ToString("N")[..8];

    private sealed record Outcome(int Accepted, int Refused, List<string> Failures);

    private async Task<Outcome> SendAllAsync(IEnumerable<MutatedRequest> requests)
    {
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        foreach (var request in requests)
        {
            var before = await ReadAllAsync(request.UnchangedIfRefused);
            using var response = await SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500) failures.Add($"{status} for {request}: {body}");
            if (status is < 400 or >= 500) continue;
            // A HEAD answer has no body to hold the problem document.
            if (request.Method != HttpMethod.Head && ProblemError(response, status, body) is { } problemError)
                failures.Add($"{problemError} for {request}: {body}");
            var after = await ReadAllAsync(request.UnchangedIfRefused);
            foreach (var (path, answer) in before)
                if (after[path] != answer) failures.Add($"{status} for {request}, but GET {path} changed from {answer} to {after[path]}");
        }
        output.WriteLine("Answers: " + string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
        return new Outcome(statuses.Where(s => s.Key < 400).Sum(s => s.Value), statuses.Where(s => s.Key is >= 400 and < 500).Sum(s => s.Value), failures);
    }

    private async Task<HttpResponseMessage> SendAsync(MutatedRequest request)
    {
        using var message = new HttpRequestMessage(request.Method, request.Path);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }
        if (request.IdempotencyKey is not null) message.Headers.TryAddWithoutValidation("Idempotency-Key", request.IdempotencyKey);
        return await cluster.Http.SendAsync(message);
    }

    private async Task<Dictionary<string, string>> ReadAllAsync(IReadOnlyList<string> paths)
    {
        var answers = new Dictionary<string, string>();
        foreach (var path in paths)
        {
            using var response = await cluster.Http.GetAsync(path);
            // The trace id differs from one answer to the next.
            answers[path] = $"{(int)response.StatusCode} {TraceId().Replace(await response.Content.ReadAsStringAsync(), "")}";
        }
        return answers;
    }

    private static string? ProblemError(HttpResponseMessage response, int status, string body)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            return $"{status} as {response.Content.Headers.ContentType?.ToString() ?? "no content type"}, not problem details";
        try
        {
            using var problem = JsonDocument.Parse(body);
            if (!problem.RootElement.TryGetProperty("status", out var problemStatus) || problemStatus.GetInt32() != status)
                return $"{status} with a problem document of another status";
            if (!problem.RootElement.TryGetProperty("title", out var title) || string.IsNullOrWhiteSpace(title.GetString()))
                return $"{status} with a problem document without a title";
            return null;
        }
        catch (JsonException e)
        {
            return $"{status} with a problem document that is not JSON ({e.Message})";
        }
    }
}
