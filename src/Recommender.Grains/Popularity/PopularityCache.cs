using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;

namespace Recommender.Grains.Popularity;

/// <summary>
/// Each silo's copy of the live popular list: the partitions' top items merged by decayed score, with titles and
/// tags, rebuilt every refresh interval by <see cref="PopularityFlusher"/>. Readers never wait on a rebuild (except
/// the very first on a silo) and a failed rebuild keeps the previous list. Every rebuild reads the current titles and
/// tags of the listed items and of the seeded list, so a renamed or retagged item is shown as it is now.
/// </summary>
public sealed class PopularityCache(IGrainFactory grains, CatalogueCache catalogue, IOptions<ServingOptions> options, ILogger<PopularityCache> logger)
{
    private readonly ConcurrentDictionary<string, (string Title, IReadOnlyList<string> Tags)> _details = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private IReadOnlyList<PopularItem> _list = [];
    private volatile bool _built;
    private Task? _first;

    public async ValueTask<IReadOnlyList<PopularItem>> GetAsync()
    {
        if (!_built) await (_first ??= RebuildAsync());
        return _list;
    }

    public async Task RebuildAsync()
    {
        if (!await _rebuild.WaitAsync(0)) return;
        try
        {
            var size = options.Value.Popularity.ListSize;
            var partitions = await Task.WhenAll(Enumerable.Range(0, Partitions.Popularity).Select(p => grains.GetGrain<IPopularityGrain>(p).Top(size)));
            var top = partitions.SelectMany(p => p.Value).OrderByDescending(s => s.Score).ThenBy(s => s.ItemId, StringComparer.Ordinal).Take(size).ToArray();
            var seeded = (await catalogue.GetAsync()).Popular;
            var listed = top.Select(s => s.ItemId).Concat(seeded.Select(p => p.ItemId)).Distinct(StringComparer.Ordinal).ToArray();
            var details = await Task.WhenAll(listed.Select(id => grains.GetGrain<IItemGrain>(id).GetDetails()));
            foreach (var d in details.OfType<ItemDetails>()) _details[d.Id] = (d.Title, d.Tags);
            _list = top.Where(s => _details.ContainsKey(s.ItemId))
                .Select(s => new PopularItem(s.ItemId, _details[s.ItemId].Title, Math.Max(1, (long)Math.Ceiling(s.Score)), _details[s.ItemId].Tags))
                .ToArray();
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Rebuilding the popular list failed; keeping the previous one");
        }
        finally
        {
            _built = true;
            _rebuild.Release();
        }
    }

    /// <summary>A seeded entry with the item's title and tags as the last rebuild read them (as seeded until then).</summary>
    public PopularItem Current(PopularItem item) =>
        _details.TryGetValue(item.ItemId, out var d) ? item with { Title = d.Title, Tags = d.Tags } : item;
}
