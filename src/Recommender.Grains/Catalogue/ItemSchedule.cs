namespace Recommender.Grains.Catalogue;

/// <summary>
/// When an item may be recommended: from <see cref="From"/> (if given) until <see cref="Until"/> (if given).
/// </summary>
[GenerateSerializer, Immutable, Alias("recommender.availability-window")]
public sealed record AvailabilityWindow([property: Id(0)] DateTimeOffset? From, [property: Id(1)] DateTimeOffset? Until)
{
    public bool IsOpen(DateTimeOffset now) => (From is not { } from || from <= now) && (Until is not { } until || now < until);

    /// <summary>A window with neither end: no schedule at all.</summary>
    public bool IsAlways => From is null && Until is null;
}

/// <summary>
/// The items' availability windows and, as of the last <see cref="Apply"/> or <see cref="Advance"/>, the items outside
/// theirs (not yet released, or expired), which are not recommended. Not thread-safe (the catalogue grain owns it).
/// </summary>
public sealed class ItemSchedule
{
    private readonly Dictionary<string, AvailabilityWindow> _windows = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closed = new(StringComparer.Ordinal);

    // The windows' ends still to come, earliest first. An entry whose item has since been given another window (or
    // none) is stale and skipped when it comes up; the queue is rebuilt when stale entries outnumber live ones.
    private PriorityQueue<(string ItemId, AvailabilityWindow Window), DateTimeOffset> _pending = new();

    /// <summary>The items outside their window now: not yet available, or expired.</summary>
    public IReadOnlySet<string> Closed => _closed;

    /// <summary>Items with a window, open or not.</summary>
    public int Count => _windows.Count;

    /// <summary>Entries in the queue of windows' ends to come, stale ones included.</summary>
    public int PendingCount => _pending.Count;

    public AvailabilityWindow? Of(string itemId) => _windows.GetValueOrDefault(itemId);

    /// <summary>Whether the item's window has closed for good (its expiry has passed): it comes back only when written again.</summary>
    public bool HasEnded(string itemId, DateTimeOffset now) => _windows.GetValueOrDefault(itemId)?.Until <= now;

    /// <summary>
    /// The closed items a list could still hold: every item not available yet (it may have a row, or get one when
    /// written), and each expired one that <paramref name="hasRow"/> says has a row. An expired item without a row gets
    /// one only when written again, which gives it a new window; leaving it out keeps the hidden set from growing with
    /// every item that ever expired.
    /// </summary>
    public IEnumerable<string> ClosedWithRows(Func<string, bool> hasRow, DateTimeOffset now) =>
        _closed.Where(id => !HasEnded(id, now) || hasRow(id));

    /// <summary>The items whose window has closed for good.</summary>
    public IEnumerable<string> Ended(DateTimeOffset now) => _windows.Where(w => w.Value.Until <= now).Select(w => w.Key);

    /// <summary>
    /// What writing these items changes: each item whose window differs from the one held (null: it has none now), the
    /// last of an item given twice counting. The caller stores them, then <see cref="Apply"/>s them.
    /// </summary>
    public KeyValuePair<string, AvailabilityWindow?>[] Changes(IEnumerable<(string ItemId, AvailabilityWindow? Window)> written)
    {
        var wanted = new Dictionary<string, AvailabilityWindow?>(StringComparer.Ordinal);
        foreach (var (id, window) in written) wanted[id] = window is { IsAlways: true } ? null : window;
        return wanted.Where(w => w.Value != Of(w.Key)).ToArray();
    }

    /// <summary>Takes the windows given (null: none); true when the set of closed items changed.</summary>
    public bool Apply(IEnumerable<KeyValuePair<string, AvailabilityWindow?>> windows, DateTimeOffset now)
    {
        var changed = false;
        foreach (var (id, window) in windows)
        {
            var wasClosed = _closed.Remove(id);
            if (window is null || window.IsAlways)
            {
                _windows.Remove(id);
                changed |= wasClosed;
                continue;
            }
            _windows[id] = window;
            var closed = !window.IsOpen(now);
            if (closed) _closed.Add(id);
            changed |= wasClosed != closed;
            Enqueue(id, window, now);
        }
        if (_pending.Count > 2 * _windows.Count + 1024)
        {
            _pending = new();
            foreach (var (id, window) in _windows) Enqueue(id, window, now);
        }
        return changed;
    }

    private void Enqueue(string id, AvailabilityWindow window, DateTimeOffset now)
    {
        if (window.From is { } from && from > now) _pending.Enqueue((id, window), from);
        if (window.Until is { } until && until > now) _pending.Enqueue((id, window), until);
    }

    /// <summary>When the next window opens or closes, if any is still to.</summary>
    public DateTimeOffset? Next
    {
        get
        {
            while (_pending.TryPeek(out var entry, out var at))
            {
                if (_windows.GetValueOrDefault(entry.ItemId) == entry.Window) return at;
                _pending.Dequeue();
            }
            return null;
        }
    }

    /// <summary>Opens and closes the windows whose ends are at or before <paramref name="now"/>; true when the closed set changed.</summary>
    public bool Advance(DateTimeOffset now)
    {
        var changed = false;
        while (_pending.TryPeek(out var entry, out var at) && at <= now)
        {
            _pending.Dequeue();
            if (_windows.GetValueOrDefault(entry.ItemId) != entry.Window) continue;
            changed |= entry.Window.IsOpen(now) ? _closed.Remove(entry.ItemId) : _closed.Add(entry.ItemId);
        }
        return changed;
    }
}
