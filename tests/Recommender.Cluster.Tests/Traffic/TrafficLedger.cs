using System.Collections.Concurrent;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Traffic;

/// <summary>What became of one POST /events: when it was sent and answered (ledger ticks), the status (0 = no answer) and the reply.</summary>
public sealed record PostOutcome(EventPost Post, long Sent, long Answered, int Status, IngestReply? Reply, string? Failure)
{
    public bool Acknowledged => Status is >= 200 and < 300;
}

/// <summary>What became of one recommendation read.</summary>
public sealed record ReadOutcome(RecommendationRead Read, long Sent, long Answered, int Status, RecommendationsReply? Reply, string? Failure);

/// <summary>
/// Records what the API answered during a traffic run, on one logical clock (<see cref="Tick"/>), and checks stored
/// histories against it. An event is acknowledged once a 2xx answer to a request carrying it has been received; it
/// must then be in its user's history exactly once, in timestamp order; an event only ever refused with an error may
/// be there (once) or not, and one never sent in a valid post must not. Equal timestamps keep arrival order, which
/// the ledger knows only partly: an event acknowledged before another was first sent must come first, and so must
/// an earlier event of the same batch.
/// </summary>
public sealed class TrafficLedger
{
    private long _clock;
    private readonly ConcurrentQueue<PostOutcome> _posts = new();
    private readonly ConcurrentQueue<ReadOutcome> _reads = new();
    private Dictionary<string, Dictionary<string, Expected>>? _expected;

    /// <summary>The next instant of the ledger's clock; later calls (in real time) get larger values.</summary>
    public long Tick() => Interlocked.Increment(ref _clock);

    public void Record(PostOutcome outcome)
    {
        _posts.Enqueue(outcome);
        _expected = null;
    }

    public void Record(ReadOutcome outcome) => _reads.Enqueue(outcome);

    public IReadOnlyCollection<PostOutcome> Posts => _posts;

    public IReadOnlyCollection<ReadOutcome> Reads => _reads;

    /// <summary>Users that any post named, valid or not.</summary>
    public IEnumerable<string> Users => _posts.Select(p => p.Post.UserId).Distinct(StringComparer.Ordinal);

    /// <summary>Acknowledged events of a user by stored event id.</summary>
    public IReadOnlyDictionary<string, TrafficEvent> Acknowledged(string user) =>
        Expectations().GetValueOrDefault(user)?.Where(e => e.Value.FirstAcknowledged < long.MaxValue).ToDictionary(e => e.Key, e => e.Value.Event)
        ?? new Dictionary<string, TrafficEvent>();

    /// <summary>Items of the user's events acknowledged before <paramref name="tick"/>.</summary>
    public IReadOnlySet<string> ItemsAcknowledgedBefore(string user, long tick) =>
        (Expectations().GetValueOrDefault(user)?.Values.AsEnumerable() ?? []).Where(e => e.FirstAcknowledged < tick).Select(e => e.Event.ItemId).ToHashSet(StringComparer.Ordinal);

    /// <summary>Requests that were not answered as they should have been: every request answered, every valid post acknowledged with consistent counts, every invalid one refused with 400.</summary>
    public IReadOnlyList<string> AnswerProblems()
    {
        var problems = new List<string>();
        foreach (var p in _posts.OrderBy(p => p.Post.Sequence))
        {
            if (p.Status == 0) problems.Add($"post {p.Post.Sequence} got no answer: {p.Failure}");
            else if (p.Post.Invalid && p.Status != 400) problems.Add($"post {p.Post.Sequence} names an unknown item but was answered {p.Status}");
            else if (!p.Post.Invalid && !p.Acknowledged) problems.Add($"valid post {p.Post.Sequence} was answered {p.Status}: {p.Failure}");
            else if (p.Acknowledged && (p.Reply is null || p.Reply.Accepted + p.Reply.Duplicates != p.Post.Events.Count || p.Reply.Users != 1))
                problems.Add($"post {p.Post.Sequence} of {p.Post.Events.Count} events was answered {p.Reply}");
        }
        var accepted = _posts.Where(p => p.Acknowledged).Sum(p => (long)(p.Reply?.Accepted ?? 0));
        var distinct = Expectations().Values.Sum(user => user.Values.Count(e => e.FirstAcknowledged < long.MaxValue));
        if (accepted != distinct) problems.Add($"the answers accepted {accepted} events in all, but {distinct} distinct events were acknowledged");
        foreach (var r in _reads.OrderBy(r => r.Read.Sequence))
            if (r.Status != 200 || r.Reply is null) problems.Add($"read {r.Read.Sequence} for {r.Read.UserId} was answered {r.Status}: {r.Failure}");
        return problems;
    }

    /// <summary>Everything wrong with a user's stored history (empty when it is exactly what was acknowledged).</summary>
    public IReadOnlyList<string> HistoryProblems(string user, long totalCount, IReadOnlyList<HistoryEventReply> history)
    {
        var problems = new List<string>();
        var expected = Expectations().GetValueOrDefault(user) ?? [];
        var acknowledged = expected.Where(e => e.Value.FirstAcknowledged < long.MaxValue).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in history)
        {
            if (!seen.Add(stored.EventId)) problems.Add($"{user}: event {stored.EventId} is stored more than once");
            if (!expected.TryGetValue(stored.EventId, out var e))
            {
                problems.Add($"{user}: event {stored.EventId} (item {stored.ItemId}) was never sent in a valid post");
                continue;
            }
            var sent = e.Event;
            if (stored.ItemId != sent.ItemId || stored.Type != sent.Type || stored.Timestamp != sent.Timestamp || stored.Value != sent.Value)
                problems.Add($"{user}: event {stored.EventId} is stored as ({stored.ItemId}, {stored.Type}, {stored.Timestamp:O}, {stored.Value}) but was sent as ({sent.ItemId}, {sent.Type}, {sent.Timestamp:O}, {sent.Value})");
        }
        foreach (var missing in acknowledged.Where(id => !seen.Contains(id)).Order(StringComparer.Ordinal))
            problems.Add($"{user}: acknowledged event {missing} (item {expected[missing].Event.ItemId}) is not in the history");
        // A valid post answered with an error may still have been stored (the client would retry it): it counts once if it is there.
        var storedUnacknowledged = seen.Count(id => expected.ContainsKey(id) && !acknowledged.Contains(id));
        if (totalCount != acknowledged.Count + storedUnacknowledged)
            problems.Add($"{user}: total count is {totalCount}, but {acknowledged.Count} distinct events were acknowledged and {storedUnacknowledged} others stored");

        for (var i = 1; i < history.Count; i++)
            if (history[i].Timestamp < history[i - 1].Timestamp)
                problems.Add($"{user}: event {history[i].EventId} at {history[i].Timestamp:O} comes after {history[i - 1].EventId} at {history[i - 1].Timestamp:O}");
        // Within a run of equal timestamps, no event may come after one that it is known to have arrived before.
        for (var start = 0; start < history.Count;)
        {
            var end = start;
            while (end + 1 < history.Count && history[end + 1].Timestamp == history[start].Timestamp) end++;
            for (var a = start; a <= end; a++)
                for (var b = a + 1; b <= end; b++)
                    if (expected.TryGetValue(history[a].EventId, out var first) && expected.TryGetValue(history[b].EventId, out var second) && second.ArrivedBefore(first))
                        problems.Add($"{user}: events {history[a].EventId} and {history[b].EventId} share a timestamp but are stored against their arrival order");
            start = end + 1;
        }
        return problems;
    }

    private Dictionary<string, Dictionary<string, Expected>> Expectations()
    {
        if (_expected is { } cached) return cached;
        var result = new Dictionary<string, Dictionary<string, Expected>>(StringComparer.Ordinal);
        foreach (var outcome in _posts.Where(p => !p.Post.Invalid))
            for (var index = 0; index < outcome.Post.Events.Count; index++)
            {
                var e = outcome.Post.Events[index];
                var events = result.TryGetValue(e.UserId, out var found) ? found : result[e.UserId] = new Dictionary<string, Expected>(StringComparer.Ordinal);
                var expected = events.TryGetValue(e.StoredId, out var known) ? known : events[e.StoredId] = new Expected(e);
                expected.Add(outcome, index);
            }
        return _expected = result;
    }

    /// <summary>An event and the requests that carried it.</summary>
    private sealed class Expected(TrafficEvent e)
    {
        private readonly List<(PostOutcome Outcome, int Index)> _carriers = [];

        public TrafficEvent Event { get; } = e;

        /// <summary>When the first 2xx answer to a request carrying the event arrived (it was stored by then); MaxValue if never.</summary>
        public long FirstAcknowledged { get; private set; } = long.MaxValue;

        /// <summary>When the first request carrying the event was sent (it cannot have been stored earlier).</summary>
        public long FirstSent { get; private set; } = long.MaxValue;

        public void Add(PostOutcome outcome, int index)
        {
            _carriers.Add((outcome, index));
            FirstSent = Math.Min(FirstSent, outcome.Sent);
            if (outcome.Acknowledged) FirstAcknowledged = Math.Min(FirstAcknowledged, outcome.Answered);
        }

        /// <summary>Whether this event is known to have been stored before <paramref name="other"/>.</summary>
        public bool ArrivedBefore(Expected other)
        {
            if (FirstAcknowledged < other.FirstSent) return true;
            // Carried once each, by the same batch: the batch is applied in its own order.
            return _carriers.Count == 1 && other._carriers.Count == 1 && ReferenceEquals(_carriers[0].Outcome, other._carriers[0].Outcome)
                && _carriers[0].Index < other._carriers[0].Index;
        }
    }
}
