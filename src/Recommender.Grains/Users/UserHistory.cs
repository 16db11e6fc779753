using Recommender.Abstractions;

namespace Recommender.Grains.Users;

/// <summary>
/// The ordering and de-duplication rules of a user's history, over a <see cref="UserState"/>: events are kept in
/// timestamp order whatever order they arrive in (equal timestamps keep their arrival order); an event id seen
/// before is a duplicate. At most <paramref name="retention"/> events are kept (the oldest go first); the total
/// count covers all of them.
/// </summary>
public sealed class UserHistory
{
    private readonly UserState _state;
    private readonly int _retention;
    private readonly HashSet<string> _eventIds;

    public UserHistory(UserState state, int retention)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(retention);
        _state = state;
        _retention = retention;
        _eventIds = new HashSet<string>(state.Events.Select(e => e.EventId).Concat(state.RetractedEventIds), StringComparer.Ordinal);
    }

    /// <summary>How many ids of events taken back are remembered, so that a resend of one is a repeat.</summary>
    public const int MaxRetracted = 1_000;

    public IReadOnlyList<StoredEvent> Events => _state.Events;

    public long TotalCount => _state.TotalCount;

    public long Version => _state.HistoryVersion;

    /// <summary>Adds a batch; returns how many were new and how many were already recorded (in the history or earlier in the batch).</summary>
    public IngestResult Add(IReadOnlyList<UserEvent> batch) => Add(batch, null);

    /// <summary>As <see cref="Add(IReadOnlyList{UserEvent})"/>, also listing the events that were new in <paramref name="accepted"/>.</summary>
    public IngestResult Add(IReadOnlyList<UserEvent> batch, List<UserEvent>? accepted)
    {
        var count = 0;
        var duplicates = 0;
        var events = _state.Events;
        // Sorting the batch first (stable: ties keep arrival order) makes in-order batches pure appends.
        foreach (var e in batch.OrderBy(e => e.Timestamp))
        {
            if (!_eventIds.Add(e.EventId))
            {
                duplicates++;
                continue;
            }
            var stored = new StoredEvent(e.ItemId, e.Type, e.Timestamp, e.EventId, e.Value, _state.NextArrival++);
            events.Insert(UpperBound(events, e.Timestamp), stored);
            accepted?.Add(e);
            count++;
        }
        if (count > 0)
        {
            _state.TotalCount += count;
            _state.HistoryVersion++;
            Trim();
        }
        return new IngestResult(count, duplicates);
    }

    /// <summary>
    /// Takes back the retained events <paramref name="removal"/> names: they leave the history and the total count,
    /// and their ids are remembered (the latest <see cref="MaxRetracted"/>) so that a resend of one is a repeat.
    /// Returns the events removed.
    /// </summary>
    public IReadOnlyList<StoredEvent> Remove(EventRemoval removal)
    {
        var removed = _state.Events.Where(e => removal.Matches(e.ItemId, e.Type, e.EventId)).ToArray();
        if (removed.Length == 0) return [];
        _state.Events.RemoveAll(e => removal.Matches(e.ItemId, e.Type, e.EventId));
        var retracted = _state.RetractedEventIds;
        retracted.AddRange(removed.Select(e => e.EventId));
        if (retracted.Count > MaxRetracted)
        {
            foreach (var forgotten in retracted.Take(retracted.Count - MaxRetracted)) _eventIds.Remove(forgotten);
            retracted.RemoveRange(0, retracted.Count - MaxRetracted);
        }
        _state.TotalCount -= removed.Length;
        _state.HistoryVersion++;
        return removed;
    }

    /// <summary>
    /// Item ids of the most recent <paramref name="count"/> events of interest (not dismissals) whose item passes
    /// <paramref name="known"/>, oldest first, looking no further back than the last <paramref name="window"/> events
    /// when a window is given. Items a model does not know are skipped rather than counted, so they do not shorten
    /// what the model reads.
    /// </summary>
    public string[] RecentItems(int count, Func<string, bool> known, int? window = null)
    {
        var events = _state.Events;
        var first = window is { } w ? Math.Max(0, events.Count - w) : 0;
        var items = new List<string>(Math.Min(count, events.Count - first));
        for (var i = events.Count - 1; i >= first && items.Count < count; i--)
            if (events[i].Type.IsInterest() && known(events[i].ItemId)) items.Add(events[i].ItemId);
        items.Reverse();
        return items.ToArray();
    }

    /// <summary>The last <paramref name="count"/> distinct items of events of interest, most recent first.</summary>
    public string[] RecentDistinctItems(int count)
    {
        var events = _state.Events;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var items = new List<string>(Math.Min(count, events.Count));
        for (var i = events.Count - 1; i >= 0 && items.Count < count; i--)
            if (events[i].Type.IsInterest() && seen.Add(events[i].ItemId)) items.Add(events[i].ItemId);
        return items.ToArray();
    }

    /// <summary>
    /// The distinct item ids of every retained event (the items the user has had), and among them those the user
    /// dismissed last: an item dismissed and then taken up again (viewed, bought) is no longer dismissed.
    /// </summary>
    public (string[] Seen, string[] Dismissed) DistinctItems()
    {
        var latest = new Dictionary<string, EventType>(StringComparer.Ordinal);
        var seen = new List<string>();
        foreach (var e in _state.Events)
        {
            if (!latest.ContainsKey(e.ItemId)) seen.Add(e.ItemId);
            latest[e.ItemId] = e.Type;
        }
        return (seen.ToArray(), seen.Where(id => !latest[id].IsInterest()).ToArray());
    }

    public UserHistoryView View(int? limit)
    {
        var events = _state.Events;
        var start = limit is { } l ? Math.Max(0, events.Count - l) : 0;
        var list = new UserEvent[events.Count - start];
        for (var i = start; i < events.Count; i++) list[i - start] = events[i].ToEvent();
        return new UserHistoryView(_state.TotalCount, _state.HistoryVersion, list);
    }

    private void Trim()
    {
        var excess = _state.Events.Count - _retention;
        if (excess <= 0) return;
        foreach (var old in _state.Events.Take(excess)) _eventIds.Remove(old.EventId);
        _state.Events.RemoveRange(0, excess);
    }

    /// <summary>First index whose timestamp is later than <paramref name="timestamp"/>: a new event goes after all equal ones.</summary>
    private static int UpperBound(List<StoredEvent> events, DateTimeOffset timestamp)
    {
        int lo = 0, hi = events.Count;
        if (hi > 0 && events[hi - 1].Timestamp <= timestamp) return hi;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (events[mid].Timestamp <= timestamp) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
