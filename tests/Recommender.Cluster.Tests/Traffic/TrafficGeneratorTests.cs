namespace Recommender.Cluster.Tests.Traffic;

/// <summary>The generator is deterministic and produces the mix it promises.</summary>
public sealed class TrafficGeneratorTests
{
    private static readonly string[] Items = Enumerable.Range(1, 150).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static readonly TrafficPlan Plan = new TrafficGenerator(new TrafficOptions()).Generate(Items);

    private static string Fingerprint(TrafficPlan plan) => string.Join("\n", plan.Operations.Select(o => o switch
    {
        EventPost p => $"{p.Sequence} post {p.Invalid} {p.AsObject} " + string.Join(";", p.Events),
        _ => o.ToString(),
    }));

    [Fact]
    public void The_same_seed_gives_the_same_plan_and_another_seed_a_different_one()
    {
        Assert.Equal(Fingerprint(Plan), Fingerprint(new TrafficGenerator(new TrafficOptions()).Generate(Items)));
        Assert.NotEqual(Fingerprint(Plan), Fingerprint(new TrafficGenerator(new TrafficOptions { Seed = 5 }).Generate(Items)));
    }

    [Fact]
    public void Every_generated_event_is_sent_and_about_one_in_twenty_twice()
    {
        var sent = Plan.SentEvents.ToArray();
        var distinct = sent.Select(e => e.StoredId).Distinct().Count();
        Assert.Equal(new TrafficOptions().Events, distinct);
        var resent = (sent.Length - distinct) / (double)distinct;
        Assert.InRange(resent, 0.035, 0.065);
        // A resend is the same event: same id, same content.
        Assert.All(sent.GroupBy(e => e.StoredId), g => Assert.Single(g.Distinct()));
        Assert.InRange(sent.Count(e => e.EventId is null) / (double)sent.Length, 0.07, 0.13);
    }

    [Fact]
    public void About_one_event_in_ten_arrives_after_a_later_event_of_its_user()
    {
        var latest = new Dictionary<string, DateTimeOffset>();
        var late = new HashSet<string>();
        foreach (var e in Plan.SentEvents)
        {
            if (latest.TryGetValue(e.UserId, out var newest) && e.Timestamp < newest) late.Add(e.StoredId);
            else latest[e.UserId] = e.Timestamp;
        }
        Assert.InRange(late.Count / (double)new TrafficOptions().Events, 0.07, 0.13);
    }

    [Fact]
    public void Users_arrive_in_sessions_and_requests_mix_single_events_batches_reads_and_a_few_invalid_posts()
    {
        var posts = Plan.Posts.ToArray();
        Assert.All(posts, p => Assert.Single(p.Events.Select(e => e.UserId).Distinct()));
        Assert.InRange(posts.Count(p => p.Events.Count > 1) / (double)posts.Length, 0.15, 0.4);
        Assert.Contains(posts, p => p.AsObject);
        Assert.True(posts.Max(p => p.Events.Count) <= new TrafficOptions().MaxBatch + 1);
        Assert.InRange(Plan.Reads.Count() / (double)new TrafficOptions().Events, 0.2, 0.3);
        Assert.All(Plan.Reads, r => Assert.Equal(10, r.K));

        var invalid = posts.Where(p => p.Invalid).ToArray();
        Assert.NotEmpty(invalid);
        Assert.All(invalid, p => Assert.Single(p.Events, e => !Items.Contains(e.ItemId)));
        Assert.All(posts.Where(p => !p.Invalid).SelectMany(p => p.Events), e => Assert.Contains(e.ItemId, Items));
        // Invalid posts never carry an event that is also sent validly.
        Assert.Empty(invalid.SelectMany(p => p.Events).Select(e => e.StoredId).Intersect(Plan.SentEvents.Select(e => e.StoredId)));

        // Within a batch the events are in time order, and some events share a timestamp with the previous one.
        Assert.All(posts.Where(p => !p.Invalid), p => Assert.True(p.Events.Zip(p.Events.Skip(1)).All(x => x.First.Timestamp <= x.Second.Timestamp)));
        var ties = Plan.SentEvents.DistinctBy(e => e.StoredId).GroupBy(e => (e.UserId, e.Timestamp)).Count(g => g.Count() > 1);
        Assert.True(ties >= 50, $"{ties} timestamps are shared");
        Assert.True(Plan.SentEvents.Select(e => e.UserId).Distinct().Count() >= 200);

        // Sessions: within one, events follow each other within ten minutes; between two of a user, half an hour or more passes.
        var gaps = Plan.SentEvents.DistinctBy(e => e.StoredId).GroupBy(e => e.UserId)
            .SelectMany(g => g.Select(e => e.Timestamp).Order().Zip(g.Select(e => e.Timestamp).Order().Skip(1), (a, b) => b - a)).ToArray();
        Assert.All(gaps, gap => Assert.True(gap <= TimeSpan.FromMinutes(10) || gap >= TimeSpan.FromMinutes(30), $"gap {gap}"));
        var sessions = Plan.SentEvents.Select(e => e.UserId).Distinct().Count() + gaps.Count(g => g >= TimeSpan.FromMinutes(30));
        Assert.InRange(sessions, new TrafficOptions().Events / 12, new TrafficOptions().Events / 3);
        Assert.True(Plan.SentEvents.All(e => e.Timestamp < DateTimeOffset.UtcNow));
    }

    [Fact]
    public void Item_popularity_follows_the_zipf_law()
    {
        var counts = Plan.SentEvents.DistinctBy(e => e.StoredId).CountBy(e => e.ItemId).Select(c => c.Value).OrderDescending().ToArray();
        // Under Zipf(1.1) over 150 items the top item takes about 22% of the events and the top ten about 59%.
        var total = (double)counts.Sum();
        Assert.InRange(counts[0] / total, 0.18, 0.26);
        Assert.InRange(counts.Take(10).Sum() / total, 0.54, 0.64);

        var sampler = new ZipfSampler(150, 1.1);
        var random = new Random(3);
        var draws = new int[150];
        for (var i = 0; i < 200_000; i++) draws[sampler.Next(random)]++;
        for (var rank = 0; rank < 10; rank++)
            Assert.InRange(draws[rank] / 200_000.0, sampler.Probability(rank) * 0.95, sampler.Probability(rank) * 1.05);
        Assert.Equal(Math.Pow(2, 1.1), sampler.Probability(0) / sampler.Probability(1), 9);
    }
}
