using Microsoft.Extensions.Caching.Memory;

namespace Recommender.Api;

/// <summary>
/// Item ids this front end has found in the catalogue. Items are never removed, so an id found once stays valid: an
/// event naming it is checked without a call to the cluster, which spares a call per write and keeps such writes
/// independent of the silo that holds the item's bucket. At most <see cref="FrontEndOptions.KnownItemCacheSize"/> ids
/// are kept, the least recently used going first.
/// </summary>
public sealed class KnownItems(FrontEndOptions options) : IDisposable
{
    private static readonly MemoryCacheEntryOptions Entry = new() { Size = 1 };

    private readonly MemoryCache? _ids = options.KnownItemCacheSize > 0
        ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.KnownItemCacheSize })
        : null;

    public bool Contains(string itemId) => _ids is not null && _ids.TryGetValue(itemId, out _);

    public void Add(string itemId) => _ids?.Set(itemId, true, Entry);

    public void Dispose() => _ids?.Dispose();
}
