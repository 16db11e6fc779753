namespace Recommender.Grains.Catalogue;

/// <summary>
/// The items deleted within <see cref="Window"/>. A write stores an item before it tells the catalogue, so a deletion
/// that runs whole in between reaches the catalogue first; the catalogue asks whether such an item is still stored
/// before it lists it again. The window outlasts any call that may still be on its way; ids older than it are dropped.
/// </summary>
public sealed class RecentDeletions(TimeSpan window)
{
    private readonly Dictionary<string, DateTimeOffset> _deletedAt = new(StringComparer.Ordinal);
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public TimeSpan Window { get; } = window;

    public int Count => _deletedAt.Count;

    public void Add(IEnumerable<string> itemIds, DateTimeOffset now)
    {
        Sweep(now);
        foreach (var id in itemIds) _deletedAt[id] = now;
    }

    /// <summary>Whether the item was deleted within the window before <paramref name="now"/>.</summary>
    public bool Contains(string itemId, DateTimeOffset now) =>
        _deletedAt.TryGetValue(itemId, out var at) && now - at < Window;

    // A sweep at most once a tenth of the window: each reads every id.
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep) return;
        _nextSweep = now + Window / 10;
        foreach (var (id, at) in _deletedAt)
            if (now - at >= Window) _deletedAt.Remove(id);
    }
}
