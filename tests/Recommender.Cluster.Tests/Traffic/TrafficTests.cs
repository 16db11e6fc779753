using System.Net.Http.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Model.Onnx;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>
/// Thousands of events and about a thousand recommendation reads, sent concurrently through the HTTP API of a
/// two-silo cluster (Zipf-popular items, sessions, late and repeated events, small batches, a few invalid ones),
/// then checked against what the API acknowledged and against a brute-force ranking of the same vectors.
/// </summary>
public sealed class TrafficTests(TrafficRun run, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<TrafficRun>
{
    /// <summary>How far a similarity may move when the serving side encodes a history in a batch rather than alone.</summary>
    private const float EncoderRounding = 1e-5f;

    [Fact]
    public void The_traffic_had_the_intended_mix_and_every_request_was_answered_as_it_should_be()
    {
        var posts = run.Ledger.Posts;
        var events = posts.Where(p => !p.Post.Invalid).Sum(p => p.Post.Events.Count);
        Assert.True(events >= 3000, $"only {events} events were sent");
        Assert.True(run.Ledger.Reads.Count >= 800, $"only {run.Ledger.Reads.Count} reads were sent");
        Assert.Contains(posts, p => p.Post.Events.Count > 1);
        Assert.Contains(posts, p => p.Post.Invalid);
        Assert.True(posts.Count(p => p.Reply is { Duplicates: > 0 }) >= 100, "resent events were answered as duplicates");

        var problems = run.Ledger.AnswerProblems();
        Assert.True(problems.Count == 0, Describe(problems));
        output.WriteLine($"{posts.Count} posts ({events} events, {posts.Count(p => p.Post.Events.Count > 1)} batches, {posts.Count(p => p.Post.Invalid)} invalid, " +
            $"{posts.Count(p => p.Reply is { Duplicates: > 0 })} answered with duplicates) and {run.Ledger.Reads.Count} reads for {run.Ledger.Users.Count()} users " +
            $"by {TrafficRun.Workers} workers in {run.Duration.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Every_acknowledged_event_is_in_its_users_history_exactly_once_in_timestamp_order() =>
        await AssertHistoriesMatchLedger();

    [Fact]
    public void Recommendations_read_during_the_traffic_never_contain_items_acknowledged_before_the_read()
    {
        var modelItems = run.LoadPackage().Manifest.ItemIds.ToHashSet(StringComparer.Ordinal);
        var problems = new List<string>();
        var checkedExclusions = 0;
        foreach (var read in run.Ledger.Reads.Where(r => r.Reply is not null).OrderBy(r => r.Read.Sequence))
        {
            var excluded = run.Ledger.ItemsAcknowledgedBefore(read.Read.UserId, read.Sent);
            var items = read.Reply!.Items.Select(i => i.Id).ToArray();
            checkedExclusions += excluded.Count;
            if (items.Length != read.Read.K) problems.Add($"read {read.Read.Sequence} returned {items.Length} items, not {read.Read.K}");
            if (items.Distinct().Count() != items.Length) problems.Add($"read {read.Read.Sequence} repeats an item: {string.Join(",", items)}");
            foreach (var item in items.Where(excluded.Contains))
                problems.Add($"read {read.Read.Sequence} for {read.Read.UserId} recommended {item}, acknowledged for the user before the read");
            if (excluded.Overlaps(modelItems) && read.Reply.Source != "model")
                problems.Add($"read {read.Read.Sequence} for {read.Read.UserId} came from '{read.Reply.Source}' although the user had model items");
        }
        Assert.True(problems.Count == 0, Describe(problems));
        output.WriteLine($"{run.Ledger.Reads.Count} reads checked against {checkedExclusions} items acknowledged before them");
        Assert.True(checkedExclusions >= 3000, $"the reads checked only {checkedExclusions} exclusions");
    }

    [Fact]
    public async Task Shard_top_k_equals_a_brute_force_scan_of_the_same_vectors() =>
        await AssertRankingsMatchReference(users: 60, models: 40);

    [Fact]
    public async Task Histories_and_rankings_are_intact_after_a_secondary_silo_restart_and_a_full_restart()
    {
        await run.Cluster.RestartSecondarySilosAsync();
        await AssertHistoriesMatchLedger();
        await AssertRankingsMatchReference(users: 10, models: 5);

        await run.Cluster.StopAsync();
        await run.Cluster.StartAsync();
        await AssertHistoriesMatchLedger();
        await AssertRankingsMatchReference(users: 20, models: 10);

        // The restarted store still recognises what it holds: resent events are duplicates, late new ones slot in by time.
        var resent = run.Ledger.Posts.Where(p => p.Acknowledged).OrderBy(p => p.Post.Sequence).Where((_, i) => i % 10 == 0)
            .Select(p => p.Post with { Sequence = -1 }).ToArray();
        var late = run.Ledger.Users.Take(30).Select(u => run.Ledger.Acknowledged(u).Values.MinBy(e => e.Timestamp))
            .Where(e => e is not null)
            .Select((e, i) => new EventPost(-1, [e! with { EventId = $"{e.UserId}-after-restart-{i}", Timestamp = e.Timestamp.AddSeconds(1) }], Invalid: false, AsObject: true))
            .ToArray();
        var follow = new TrafficPlan([.. resent, .. late], run.Plan.Items, run.Plan.Users);
        var before = run.Ledger.Posts.Count;
        await TrafficDriver.RunAsync(run.Cluster.Http, follow, run.Ledger, 8);
        var answers = run.Ledger.Posts.Skip(before).ToArray();
        Assert.All(answers.Where(a => a.Post.Events[0].EventId?.Contains("-after-restart-") != true), a => Assert.Equal(0, a.Reply?.Accepted));
        Assert.Equal(late.Length, answers.Sum(a => a.Reply?.Accepted ?? 0));
        Assert.Empty(run.Ledger.AnswerProblems());
        await AssertHistoriesMatchLedger();
    }

    private async Task AssertHistoriesMatchLedger()
    {
        var users = run.Ledger.Users.Order(StringComparer.Ordinal).ToArray();
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(users, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (user, _) =>
        {
            var history = await run.Cluster.GetJsonAsync<HistoryReply>($"/users/{Uri.EscapeDataString(user)}/history");
            foreach (var problem in run.Ledger.HistoryProblems(user, history.TotalCount, history.Events)) problems.Add(problem);
        });
        Assert.True(problems.IsEmpty, Describe([.. problems.Order(StringComparer.Ordinal)]));
        Assert.True(users.Length >= 200, $"only {users.Length} users were checked");
    }

    /// <summary>
    /// Recommendations of the busiest users and neighbours of added and model items equal the brute-force top-K.
    /// Neighbour queries are stored vectors, so those rankings must match bit for bit. A user's query is the
    /// package's own encoder run on the stored history (excluding the history's items); the serving side may encode
    /// it in a micro-batch, which can move the last bits, so user rankings must match up to that rounding: every
    /// position holds an item whose exact similarity is within <see cref="EncoderRounding"/> of the reference's at
    /// that position, and the reported similarity is that item's own.
    /// </summary>
    private async Task AssertRankingsMatchReference(int users, int models)
    {
        var reference = run.Reference();
        var package = run.LoadPackage();
        var dense = package.Manifest.ItemIds.Select((id, i) => (id, i + 1)).ToDictionary(p => p.id, p => p.Item2, StringComparer.Ordinal);
        using var encoder = new OnnxEncoder(package, new OnnxThreading(IntraOpThreads: 1));
        var busiest = run.Ledger.Users.OrderByDescending(u => run.Ledger.Acknowledged(u).Count).ThenBy(u => u, StringComparer.Ordinal).Take(users);
        var compared = 0;
        foreach (var user in busiest)
        {
            var history = await run.Cluster.GetJsonAsync<HistoryReply>($"/users/{Uri.EscapeDataString(user)}/history");
            // By default the encoder reads the most recent items it knows, however far back they are.
            var recent = history.Events.Where(e => dense.ContainsKey(e.ItemId)).Select(e => dense[e.ItemId]).TakeLast(package.Manifest.MaxLength).ToArray();
            var exclude = history.Events.Select(e => e.ItemId).ToHashSet(StringComparer.Ordinal);
            if (recent.Length == 0) continue;
            var ranking = reference.TopK(encoder.Encode([recent]), int.MaxValue, exclude);
            foreach (var k in new[] { 10, 1000 })
            {
                var reply = await run.Cluster.GetJsonAsync<RecommendationsReply>($"/users/{Uri.EscapeDataString(user)}/recommendations?k={k}");
                Assert.Equal("model", reply.Source);
                AssertSame(ranking, k, reply.Items, EncoderRounding, $"recommendations for {user}, k={k}");
                compared++;
            }
        }
        Assert.True(compared >= 2 * Math.Min(users, 10), $"only {compared} user rankings were compared");

        var items = run.Embeddings.Keys.Concat(package.Manifest.ItemIds.Take(models));
        foreach (var item in items)
        {
            var ranking = reference.Similar(item, int.MaxValue);
            foreach (var k in new[] { 10, 1000 })
            {
                var reply = await run.Cluster.GetJsonAsync<SimilarReply>($"/items/{Uri.EscapeDataString(item)}/similar?k={k}");
                AssertSame(ranking, k, reply.Items, 0f, $"items similar to {item}, k={k}");
            }
        }
    }

    /// <summary>
    /// The first <paramref name="k"/> of the reference <paramref name="ranking"/> (every candidate, best first) against
    /// an answer: bit-equal ids and similarities when <paramref name="tolerance"/> is 0, else equal up to that rounding.
    /// </summary>
    private static void AssertSame(IReadOnlyList<ReferenceItem> ranking, int k, IReadOnlyList<RecommendedItemReply> actual, float tolerance, string what)
    {
        var expected = ranking.Take(k).ToArray();
        var similarity = ranking.ToDictionary(r => r.Id, r => r.Similarity, StringComparer.Ordinal);
        var same = expected.Length == actual.Count && actual.Select(a => a.Id).Distinct().Count() == actual.Count && expected.Zip(actual).All(p =>
            tolerance == 0
                ? p.First.Id == p.Second.Id && p.First.Similarity == p.Second.Similarity
                : similarity.TryGetValue(p.Second.Id, out var exact)
                  && Math.Abs(exact - p.Second.Similarity) <= tolerance
                  && Math.Abs(exact - p.First.Similarity) <= tolerance);
        Assert.True(same, $"{what} differ from the brute-force reference:\n expected {Show(expected.Select(e => (e.Id, e.Similarity)))}\n actual   {Show(actual.Select(a => (a.Id, a.Similarity)))}");

        static string Show(IEnumerable<(string Id, float Similarity)> items) =>
            string.Join(" ", items.Take(12).Select(i => $"{i.Id}:{i.Similarity:R}")) + " …";
    }

    private static string Describe(IReadOnlyList<string> problems) =>
        $"{problems.Count} problems:\n" + string.Join("\n", problems.Take(25));
}
