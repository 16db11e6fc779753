using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Recommender.Deployment.Tests;

public enum Outcome
{
    Acknowledged,

    /// <summary>503 with a Retry-After header: the client is told to try again.</summary>
    Retryable,

    /// <summary>
    /// 503 with a Retry-After header whose problem says the write may have been stored (the connection to the database
    /// broke during it): neither acknowledged nor refused.
    /// </summary>
    MaybeWritten,

    /// <summary>Anything else: another status, a dropped connection, a client timeout.</summary>
    Failed,
}

/// <summary>One HTTP request of the simulated traffic.</summary>
public sealed record RequestRecord(TimeSpan Start, TimeSpan End, bool IsWrite, Outcome Outcome, string Detail, string User, int Sequence);

/// <summary>
/// Simulated users on loopback: each worker owns a set of users and, for one user at a time, posts
/// the next event (increasing timestamp, explicit event id) and now and then reads recommendations or an item.
/// Bounded by duration, with a short think time between a user's requests so the load leaves room
/// for the cluster's own work on a small machine; nothing is retried, so every outcome is visible.
/// </summary>
public sealed class Traffic(HttpClient http, Uri api, IReadOnlyList<string> users, IReadOnlyList<string> items)
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan ThinkTime = TimeSpan.FromMilliseconds(20);
    private readonly ConcurrentBag<RequestRecord> _records = [];
    private readonly ConcurrentDictionary<string, int> _next = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyCollection<RequestRecord> Records => _records;

    public static string EventId(string user, int sequence) => $"{user}-e{sequence:D6}";

    public Task RunAsync(TimeSpan duration, int workers) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(w => Worker(w, workers, Now + duration)));

    private async Task Worker(int worker, int workers, TimeSpan until)
    {
        var mine = users.Where((_, i) => i % workers == worker).ToArray();
        for (var round = 0; Now < until; round++)
        {
            var user = mine[round % mine.Length];
            var sequence = _next.AddOrUpdate(user, 0, (_, s) => s + 1);
            var body = new
            {
                userId = user,
                itemId = items[(sequence + user.GetHashCode() & 0x7fffffff) % items.Count],
                type = "view",
                timestamp = Epoch.AddSeconds(sequence),
                eventId = EventId(user, sequence),
            };
            await Send(true, user, sequence, () => http.PostAsJsonAsync(new Uri(api, "/events"), body));
            if (round % 3 == 0)
            {
                await Send(false, user, -1, () => http.GetAsync(new Uri(api, $"/users/{user}/recommendations?k=10")));
            }
            else if (round % 3 == 1)
            {
                // Item grains live on every silo too: a catalogue read must survive the faults as well.
                var item = items[(round * 7919 + worker) % items.Count];
                await Send(false, user, -1, () => http.GetAsync(new Uri(api, $"/items/{Uri.EscapeDataString(item)}")));
            }
            await Task.Delay(ThinkTime);
        }
    }

    private async Task Send(bool isWrite, string user, int sequence, Func<Task<HttpResponseMessage>> request)
    {
        var start = Now;
        Outcome outcome;
        string detail;
        try
        {
            using var response = await request();
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                (outcome, detail) = (Outcome.Acknowledged, status.ToString());
            }
            else if (response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter is not null)
            {
                (outcome, detail) = (await MayHaveBeenWritten(response) ? Outcome.MaybeWritten : Outcome.Retryable, "503");
            }
            else
            {
                (outcome, detail) = (Outcome.Failed, $"{status} {await Excerpt(response)}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            (outcome, detail) = (Outcome.Failed, e.GetType().Name + ": " + e.Message);
        }
        _records.Add(new RequestRecord(start, Now, isWrite, outcome, detail, user, sequence));
    }

    /// <summary>Whether a problem answer says its write may have been stored ("mayHaveBeenWritten": true).</summary>
    public static async Task<bool> MayHaveBeenWritten(HttpResponseMessage response)
    {
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return document.RootElement.TryGetProperty("mayHaveBeenWritten", out var flag) && flag.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task<string> Excerpt(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Length > 200 ? text[..200] : text;
    }

    /// <summary>
    /// Reads every user's history and compares it with what was acknowledged: each acknowledged event
    /// must be there exactly once, and the events must be in the order they were sent.
    /// </summary>
    public async Task<HistoryAudit> AuditAsync()
    {
        var acknowledged = _records.Where(r => r.IsWrite && r.Outcome == Outcome.Acknowledged)
            .GroupBy(r => r.User).ToDictionary(g => g.Key, g => g.Select(r => EventId(r.User, r.Sequence)).ToHashSet());
        var refused = _records.Where(r => r.IsWrite && r.Outcome is Outcome.Retryable or Outcome.Failed)
            .GroupBy(r => r.User).ToDictionary(g => g.Key, g => g.Select(r => EventId(r.User, r.Sequence)).ToHashSet());
        var maybe = _records.Where(r => r.IsWrite && r.Outcome == Outcome.MaybeWritten)
            .GroupBy(r => r.User).ToDictionary(g => g.Key, g => g.Select(r => EventId(r.User, r.Sequence)).ToHashSet());
        int lost = 0, duplicated = 0, disordered = 0, refusedButWritten = 0, maybeStored = 0;
        foreach (var user in users)
        {
            var ids = await HistoryEventIdsAsync(http, api, user);
            var expected = acknowledged.GetValueOrDefault(user) ?? [];
            lost += expected.Count(id => !ids.Contains(id));
            refusedButWritten += (refused.GetValueOrDefault(user) ?? []).Count(ids.Contains);
            maybeStored += (maybe.GetValueOrDefault(user) ?? []).Count(ids.Contains);
            duplicated += ids.Count - ids.Distinct().Count();
            disordered += ids.Zip(ids.Skip(1)).Count(pair => string.CompareOrdinal(pair.First, pair.Second) >= 0);
        }
        return new HistoryAudit(acknowledged.Values.Sum(s => s.Count), lost, duplicated, disordered, refusedButWritten, maybeStored);
    }

    /// <summary>The event ids of the user's history, in history order, read through the API.</summary>
    public static async Task<List<string>> HistoryEventIdsAsync(HttpClient http, Uri api, string user)
    {
        using var response = await http.GetAsync(new Uri(api, $"/users/{user}/history"));
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!).ToList();
    }
}

/// <summary>
/// What the histories hold against the answers: <see cref="RefusedButWritten"/> counts events whose request was refused
/// (answered neither 2xx nor "may have been written"), <see cref="MaybeWrittenStored"/> those answered "may have been
/// written" that are stored.
/// </summary>
public sealed record HistoryAudit(int Acknowledged, int Lost, int Duplicated, int OutOfOrder, int RefusedButWritten, int MaybeWrittenStored);
