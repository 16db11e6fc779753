using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace Recommender.Deployment.Tests;

/// <summary>One POST /events of two users' events: its answer and the event ids it carried, by user.</summary>
public sealed record BatchRecord(TimeSpan Start, TimeSpan End, int Status, bool RetryAfter, bool MayHaveBeenWritten, IReadOnlyDictionary<string, string[]> EventIds);

/// <summary>What became of the batches: answers by kind, and their events in the users' histories.</summary>
public sealed record BatchAudit(int Attempted, int Ok, int Accepted, int Retryable, int MaybeWritten, int Failed, int EventsMissing, int EventsDuplicated, int RefusedButWritten,
    TimeSpan SlowestAnswer)
{
    public override string ToString() =>
        $"two-user batches: attempted {Attempted}, 200 {Ok}, 202 (users pending in the journal) {Accepted}, retryable 503 {Retryable} " +
        $"(of them \"may have been written\" {MaybeWritten}), failed {Failed}; acknowledged events missing {EventsMissing}, duplicated {EventsDuplicated}; " +
        $"refused batches with events written {RefusedButWritten}; slowest answer {SlowestAnswer.TotalSeconds:0.0} s";
}

/// <summary>
/// Workers posting batches for two users at a time (explicit event ids, nothing retried), for checking that a batch is
/// all-or-nothing: every event of a batch answered 200 or 202 ends up in its user's history once, and no event of a
/// batch refused with 503 does (one answered "may have been written" may or may not be there).
/// </summary>
public sealed class BatchTraffic(HttpClient http, Uri api, IReadOnlyList<string> users, IReadOnlyList<string> items)
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ConcurrentBag<BatchRecord> _records = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _next;

    public IReadOnlyCollection<BatchRecord> Records => _records;

    public Task RunAsync(TimeSpan duration, int workers) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Worker(_clock.Elapsed + duration)));

    private async Task Worker(TimeSpan until)
    {
        while (_clock.Elapsed < until)
        {
            var batch = Interlocked.Increment(ref _next);
            var pair = new[] { users[batch % users.Count], users[(batch * 7 + 3) % users.Count] }.Distinct().ToArray();
            var events = pair.SelectMany((user, u) => Enumerable.Range(0, 2).Select(k => new
            {
                userId = user,
                itemId = items[(batch + u + k) % items.Count],
                type = "view",
                timestamp = Epoch.AddSeconds(batch * 10 + k),
                eventId = $"batch-{batch:D6}-{u}-{k}",
            })).ToArray();
            var start = _clock.Elapsed;
            int status;
            var retryAfter = false;
            var mayHaveBeenWritten = false;
            try
            {
                using var response = await http.PostAsJsonAsync(new Uri(api, "/events"), events);
                status = (int)response.StatusCode;
                retryAfter = response.Headers.RetryAfter is not null;
                mayHaveBeenWritten = status == 503 && await Traffic.MayHaveBeenWritten(response);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }
            _records.Add(new BatchRecord(start, _clock.Elapsed, status, retryAfter, mayHaveBeenWritten,
                events.GroupBy(e => e.userId).ToDictionary(g => g.Key, g => g.Select(e => e.eventId).ToArray())));
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>
    /// Waits (up to <paramref name="patience"/>) for every event of the acknowledged batches to be in its user's history,
    /// as the journal's retries write the pending users, then audits every batch.
    /// </summary>
    public async Task<BatchAudit> AuditAsync(TimeSpan patience)
    {
        var acknowledged = _records.Where(r => r.Status is 200 or 202).ToArray();
        var deadline = _clock.Elapsed + patience;
        Dictionary<string, List<string>> histories;
        while (true)
        {
            histories = await Histories();
            var missing = acknowledged.Sum(r => r.EventIds.Sum(p => p.Value.Count(id => !histories[p.Key].Contains(id))));
            if (missing == 0 || _clock.Elapsed > deadline) break;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        // A batch answered "may have been written" is neither acknowledged nor refused.
        var refused = _records.Where(r => r.Status is not (200 or 202) && !r.MayHaveBeenWritten).ToArray();
        return new BatchAudit(
            _records.Count,
            _records.Count(r => r.Status == 200),
            _records.Count(r => r.Status == 202),
            _records.Count(r => r.Status == 503 && r.RetryAfter),
            _records.Count(r => r.MayHaveBeenWritten),
            _records.Count(r => r.Status is not (200 or 202) && !(r.Status == 503 && r.RetryAfter)),
            acknowledged.Sum(r => r.EventIds.Sum(p => p.Value.Count(id => !histories[p.Key].Contains(id)))),
            histories.Values.Sum(ids => ids.Count - ids.Distinct().Count()),
            refused.Count(r => r.EventIds.Any(p => p.Value.Any(id => histories[p.Key].Contains(id)))),
            _records.Count == 0 ? TimeSpan.Zero : _records.Max(r => r.End - r.Start));
    }

    private async Task<Dictionary<string, List<string>>> Histories()
    {
        var histories = new Dictionary<string, List<string>>();
        foreach (var user in users)
        {
            histories[user] = await Traffic.HistoryEventIdsAsync(http, api, user);
        }
        return histories;
    }
}
