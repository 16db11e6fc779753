using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Recommender.Deployment.Tests;

/// <summary>What became of the keyed requests: how many needed a resend, and the users' histories against the events sent.</summary>
public sealed record KeyedRetryAudit(int Requests, int Resent, int Attempts, int NeverAcknowledged, int Events, int AlreadyStoredOnResend, int Missing, int Extra)
{
    public override string ToString() =>
        $"requests under an Idempotency-Key, resent until acknowledged: {Requests} requests ({Resent} resent, {Attempts} attempts in all, " +
        $"{NeverAcknowledged} never acknowledged) with {Events} events, {AlreadyStoredOnResend} of them answered as already stored on a resend " +
        $"(an unanswered attempt had written them); missing from the histories {Missing}, extra {Extra}";
}

/// <summary>
/// A client that sends events with neither an event id nor a timestamp (the server stamps them), every request under an
/// Idempotency-Key, and sends a request that was not acknowledged (a 503, another error, a dropped connection, its own
/// 3-second timeout while the cluster may still be working on it) again under the same key until it is. Half the
/// requests are two events of one user (its grain directly), half one event for each of two users (the event journal).
/// Every event must end up in its user's history exactly once, whatever the unanswered attempts wrote.
/// </summary>
public sealed class KeyedRetryTraffic(Uri api, IReadOnlyList<string> users, IReadOnlyList<string> items, string prefix) : IDisposable
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(250);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly ConcurrentDictionary<string, int> _sent = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _next, _resent, _attempts, _neverAcknowledged, _alreadyStored;

    /// <summary>Sends new requests for <paramref name="duration"/>; a request not yet acknowledged then is resent for up to <paramref name="patience"/> more.</summary>
    public Task RunAsync(TimeSpan duration, int workers, TimeSpan patience) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Worker(_clock.Elapsed + duration, _clock.Elapsed + duration + patience)));

    private async Task Worker(TimeSpan until, TimeSpan giveUp)
    {
        while (_clock.Elapsed < until)
        {
            var n = Interlocked.Increment(ref _next);
            var pair = new[] { users[n % users.Count], users[(n * 7 + 3) % users.Count] };
            var events = (n % 2 == 0 ? [pair[0], pair[0]] : pair)
                .Select((user, k) => new { userId = user, itemId = items[(n + k) % items.Count], type = "view" }).ToArray();
            var key = $"{prefix}-{n:D6}";
            for (var attempt = 1; ; attempt++)
            {
                Interlocked.Increment(ref _attempts);
                if (await SendAsync(key, events) is { } duplicates)
                {
                    foreach (var e in events) _sent.AddOrUpdate(e.userId, 1, (_, c) => c + 1);
                    if (attempt > 1)
                    {
                        Interlocked.Increment(ref _resent);
                        Interlocked.Add(ref _alreadyStored, duplicates);
                    }
                    break;
                }
                if (_clock.Elapsed > giveUp)
                {
                    Interlocked.Increment(ref _neverAcknowledged);
                    break;
                }
                await Task.Delay(Pause);
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>The answer's count of events already stored when the request is acknowledged; null when it is not.</summary>
    private async Task<int?> SendAsync(string key, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, "/events")) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        try
        {
            using var response = await _http.SendAsync(request);
            if (!response.IsSuccessStatusCode) return null;
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return document.RootElement.GetProperty("duplicates").GetInt32();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Each user's history length against the events of its acknowledged requests.</summary>
    public async Task<KeyedRetryAudit> AuditAsync(HttpClient http, TimeSpan patience)
    {
        // The journal writes a pending user on its next retry; give it time before counting.
        var deadline = _clock.Elapsed + patience;
        int missing, extra;
        while (true)
        {
            (missing, extra) = (0, 0);
            foreach (var user in users.Distinct())
            {
                var difference = await HistoryLengthAsync(http, user) - _sent.GetValueOrDefault(user);
                if (difference < 0) missing -= difference;
                else extra += difference;
            }
            if (missing == 0 || _clock.Elapsed > deadline) break;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        return new KeyedRetryAudit(_next, _resent, _attempts, _neverAcknowledged, _sent.Values.Sum(), _alreadyStored, missing, extra);
    }

    private async Task<int> HistoryLengthAsync(HttpClient http, string user)
    {
        using var response = await http.GetAsync(new Uri(api, $"/users/{user}/history?limit=1"));
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("totalCount").GetInt32();
    }

    public void Dispose() => _http.Dispose();
}
