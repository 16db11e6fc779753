namespace Recommender.Grains.Catalogue;

/// <summary>
/// When items stop being recommended: each item's expiry and, as of the last <see cref="Apply"/> or
/// <see cref="Advance"/>, the items whose expiry has passed. Not thread-safe (the catalogue grain owns it).
/// </summary>
public sealed class ItemExpiries
{
    private readonly Dictionary<string, DateTimeOffset> _at = new(StringComparer.Ordinal);
    private readonly HashSet<string> _expired = new(StringComparer.Ordinal);

    // Expiries still to come, earliest first. An entry whose item has since been given another expiry (or none) is
    // stale and skipped when it comes up; the queue is rebuilt when stale entries outnumber live ones.
    private PriorityQueue<string, DateTimeOffset> _pending = new();

    /// <summary>The items whose expiry has passed.</summary>
    public IReadOnlySet<string> Expired => _expired;

    /// <summary>Items with an expiry, passed or not.</summary>
    public int Count => _at.Count;

    /// <summary>Entries in the queue of expiries to come, stale ones included.</summary>
    public int PendingCount => _pending.Count;

    public DateTimeOffset? Of(string itemId) => _at.TryGetValue(itemId, out var at) ? at : null;

    /// <summary>
    /// What writing these items changes: each item whose expiry differs from the one held (null: it has none now), the
    /// last of an item given twice counting. The caller stores them, then <see cref="Apply"/>s them.
    /// </summary>
    public KeyValuePair<string, DateTimeOffset?>[] Changes(IEnumerable<(string ItemId, DateTimeOffset? ExpiresAt)> written)
    {
        var wanted = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var (id, at) in written) wanted[id] = at;
        return wanted.Where(w => w.Value != Of(w.Key)).ToArray();
    }

    /// <summary>Takes the expiries given (null: none); true when the set of expired items changed.</summary>
    public bool Apply(IEnumerable<KeyValuePair<string, DateTimeOffset?>> expiries, DateTimeOffset now)
    {
        var changed = false;
        foreach (var (id, at) in expiries)
        {
            var wasExpired = _expired.Remove(id);
            if (at is not { } when)
            {
                _at.Remove(id);
                changed |= wasExpired;
                continue;
            }
            _at[id] = when;
            if (when <= now) _expired.Add(id);
            else _pending.Enqueue(id, when);
            changed |= wasExpired != (when <= now);
        }
        if (_pending.Count > 2 * _at.Count + 1024)
            _pending = new(_at.Where(a => !_expired.Contains(a.Key)).Select(a => (a.Key, a.Value)));
        return changed;
    }

    /// <summary>When the next item expires, if any is still to.</summary>
    public DateTimeOffset? Next
    {
        get
        {
            while (_pending.TryPeek(out var id, out var at))
            {
                if (_at.TryGetValue(id, out var current) && current == at && !_expired.Contains(id)) return at;
                _pending.Dequeue();
            }
            return null;
        }
    }

    /// <summary>Moves the items whose expiry is at or before <paramref name="now"/> into <see cref="Expired"/>; true when any moved.</summary>
    public bool Advance(DateTimeOffset now)
    {
        var changed = false;
        while (_pending.TryPeek(out var id, out var at) && at <= now)
        {
            _pending.Dequeue();
            if (_at.TryGetValue(id, out var current) && current == at) changed |= _expired.Add(id);
        }
        return changed;
    }
}
