using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Popularity;

/// <summary>
/// Each silo's copy of the live popular list: the partitions' top items merged by decayed score, with titles and
/// tags, rebuilt every refresh interval by <see cref="PopularityFlusher"/>. Readers never wait on a rebuild (except
/// the very first on a silo) and a failed rebuild keeps the previous list. An item's title and tags are read again
/// once they are older than <see cref="DetailsLifetime"/>, so a renamed or retagged item shows as it is now within that
/// time, without every rebuild asking every listed item. (The seeded list behind it is kept current by the catalogue.)
/// </summary>
public sealed class PopularityCache(IGrainFactory grains, IOptions<ServingOptions> options, ILogger<PopularityCache> logger)
{
    public static readonly TimeSpan DetailsLifetime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (string Title, IReadOnlyList<string> Tags, long ReadAt)> _details = new(StringComparer.Ordinal);
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
            var now = Environment.TickCount64;
            var stale = top.Where(s => !_details.TryGetValue(s.ItemId, out var d) || now - d.ReadAt > DetailsLifetime.TotalMilliseconds).ToArray();
            var details = await Task.WhenAll(stale.Select(s => grains.GetGrain<IItemGrain>(s.ItemId).GetDetails()));
            foreach (var d in details.OfType<ItemDetails>()) _details[d.Id] = (d.Title, d.Tags, now);
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
}
