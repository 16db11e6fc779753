using Microsoft.Extensions.Caching.Memory;
using Recommender.Abstractions;

namespace Recommender.Api;

/// <summary>
/// Item ids this front end has found in the catalogue. An id found is taken as valid for
/// <see cref="FrontEndOptions.KnownItemLifetime"/>: an event naming it is checked without a call to the cluster, which
/// spares a call per write and keeps such writes independent of the silo that holds the item's bucket. A deleted item
/// leaves the memory of the front end that deleted it at once, and of every other front end within the lifetime
/// (histories keep deleted ids anyway). At most <see cref="FrontEndOptions.KnownItemCacheSize"/> ids are kept, the
/// least recently used going first.
/// </summary>
public sealed class KnownItems(FrontEndOptions options) : IDisposable
{
    private readonly MemoryCacheEntryOptions _entry = new() { Size = 1, AbsoluteExpirationRelativeToNow = options.KnownItemLifetime };

    private readonly MemoryCache? _ids = options.KnownItemCacheSize > 0
        ? new MemoryCache(new MemoryCacheOptions { SizeLimit = options.KnownItemCacheSize })
        : null;

    public bool Contains(string itemId) => _ids is not null && _ids.TryGetValue(itemId, out _);

    public void Add(string itemId) => _ids?.Set(itemId, true, _entry);

    public void Forget(string itemId) => _ids?.Remove(itemId);

    /// <summary>
    /// Those of <paramref name="items"/> that are in the catalogue neither by this front end's memory, nor in the
    /// bulk-loaded buckets (always active, so asking them activates no item grain), nor, for the rest, in the item
    /// grains (items created through the API). The ones found are remembered.
    /// </summary>
    public async Task<HashSet<string>> FindUnknownAsync(IGrainFactory grains, string[] items, TimeSpan attemptTimeout, CancellationToken cancellation)
    {
        var byBucket = items.Where(id => !Contains(id)).GroupBy(ItemBuckets.Of).ToArray();
        var inBuckets = await Task.WhenAll(byBucket.Select(g => ClusterRetry.RepeatAsync(
            () => grains.GetGrain<IItemBucketGrain>(g.Key).Contains(new Immutable<string[]>(g.ToArray())), attemptTimeout, cancellation)));
        var rest = byBucket.SelectMany((g, b) => g.Where((_, i) => !inBuckets[b][i])).ToArray();
        var inGrains = await Task.WhenAll(rest.Select(id => ClusterRetry.RepeatAsync(
            () => grains.Item(id).Exists(), attemptTimeout, cancellation)));
        foreach (var id in byBucket.SelectMany((g, b) => g.Where((_, i) => inBuckets[b][i])).Concat(rest.Where((_, i) => inGrains[i])))
            Add(id);
        return rest.Where((_, i) => !inGrains[i]).ToHashSet(StringComparer.Ordinal);
    }

    public void Dispose() => _ids?.Dispose();
}
