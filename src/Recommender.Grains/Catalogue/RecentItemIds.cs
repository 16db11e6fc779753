namespace Recommender.Grains.Catalogue;

/// <summary>
/// The items a catalogue step named within <see cref="Window"/> (deleted, placed or flagged hidden), each with the time
/// of the latest. A write stores an item before it tells the catalogue, so another write or a deletion of the item may
/// store and reach the catalogue in between; the catalogue asks what is stored of an item it met lately rather than
/// trust the call. The window outlasts any call that may still be on its way; ids older than it are dropped.
/// </summary>
public sealed class RecentItemIds(TimeSpan window)
{
    private readonly Dictionary<string, DateTimeOffset> _namedAt = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public TimeSpan Window { get; } = window;

    public int Count => _namedAt.Count;

    public void Add(IEnumerable<string> itemIds, DateTimeOffset now)
    {
        Sweep(now);
        foreach (var id in itemIds) _namedAt[id] = now;
    }

    /// <summary>Whether the item was named within the window before <paramref name="now"/>.</summary>
    public bool Contains(string itemId, DateTimeOffset now) =>
        _namedAt.TryGetValue(itemId, out var at) && now - at < Window;

    // A sweep at most once a tenth of the window: each reads every id.
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep) return;
        _nextSweep = now + Window / 10;
        foreach (var (id, at) in _namedAt)
            if (now - at >= Window) _namedAt.Remove(id);
    }
}
