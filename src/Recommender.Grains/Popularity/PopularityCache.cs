using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Popularity;

/// <summary>
/// Each silo's copy of the live popular list: the partitions' top items merged by decayed score, with titles and
/// tags (and the time each became available, for freshness boosts), rebuilt every refresh interval by <see cref="PopularityFlusher"/>. Readers never wait on a rebuild (except
/// the very first on a silo) and a failed rebuild keeps the previous list. An item's title and tags are read again
/// once they are older than <see cref="DetailsLifetime"/>, so a renamed or retagged item shows as it is now within that
/// time, without every rebuild asking every listed item. (The seeded list behind it is kept current by the catalogue.)
/// Listed items the active version was not trained on are checked with the catalogue once per rebuild: those it placed
/// (by their embedding or text, such as items added through the API) may be served as popular under it.
/// </summary>
public sealed class PopularityCache(IGrainFactory grains, CatalogueCache catalogue, ModelRegistry models, IOptions<ServingOptions> options, ILogger<PopularityCache> logger)
{
    public static readonly TimeSpan DetailsLifetime = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (string Title, IReadOnlyList<string> Tags, DateTimeOffset? AvailableFrom, long ReadAt)> _details = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private IReadOnlyList<PopularItem> _list = [];
    // One reference, so that a reader sees a version together with its set.
    private Placed _placed = new(null, new HashSet<string>());
    private volatile bool _built;
    // The active version the held details were read under: an activation (a rollback to a version trained on an item
    // deleted since, say) has them read again.
    private string? _detailsVersion;
    private Task? _first;

    public async ValueTask<IReadOnlyList<PopularItem>> GetAsync()
    {
        if (!_built) await (_first ??= RebuildAsync());
        return _list;
    }

    /// <summary>
    /// Whether the item may be listed under <paramref name="version"/>: trained on, or placed by it. Items placed
    /// outside the vocabulary are known as of the last rebuild, so for a few seconds after an activation they wait.
    /// </summary>
    public bool Servable(string version, IReadOnlyDictionary<string, int> vocabulary, string itemId) =>
        vocabulary.ContainsKey(itemId) || (_placed is var placed && placed.Version == version && placed.Ids.Contains(itemId));

    public async Task RebuildAsync()
    {
        if (!await _rebuild.WaitAsync(0)) return;
        try
        {
            var size = options.Value.Popularity.ListSize;
            var partitions = await Task.WhenAll(Enumerable.Range(0, Partitions.Popularity).Select(p => grains.GetGrain<IPopularityGrain>(p).Top(size)));
            var top = partitions.SelectMany(p => p.Value).OrderByDescending(s => s.Score).ThenBy(s => s.ItemId, StringComparer.Ordinal).Take(size).ToArray();
            var now = Environment.TickCount64;
            // Hidden items are not listed: their details are dropped, and read again once they are shown (a deleted
            // item, which the hidden set carries while a serving version was trained on it, has none by then).
            var version = (await catalogue.GetAsync()).Model?.Version;
            if (version != _detailsVersion)
            {
                _details.Clear();
                _detailsVersion = version;
            }
            var hidden = catalogue.Hidden.Ids;
            foreach (var s in top)
                if (hidden.Contains(s.ItemId)) _details.TryRemove(s.ItemId, out _);
            var stale = top.Where(s => !hidden.Contains(s.ItemId) && (!_details.TryGetValue(s.ItemId, out var d) || now - d.ReadAt > DetailsLifetime.TotalMilliseconds)).ToArray();
            var details = await Task.WhenAll(stale.Select(s => grains.Item(s.ItemId).GetDetails()));
            for (var i = 0; i < stale.Length; i++)
                // A deleted item has no details: its copy goes with them.
                if (details[i] is { } d) _details[d.Id] = (d.Title, d.Tags, d.AvailableFrom, now);
                else _details.TryRemove(stale[i].ItemId, out _);
            _list = top.Where(s => _details.ContainsKey(s.ItemId))
                .Select(s => (Score: s, Details: _details[s.ItemId]))
                .Select(s => new PopularItem(s.Score.ItemId, s.Details.Title, Math.Max(1, (long)Math.Ceiling(s.Score.Score)), s.Details.Tags, s.Details.AvailableFrom))
                .ToArray();
            if ((await catalogue.GetAsync()).Model is { } model)
            {
                var vocabulary = models.Get(model.Version).DenseIds;
                var outside = _list.Select(p => p.ItemId).Where(id => !vocabulary.ContainsKey(id)).ToArray();
                var placed = outside.Length == 0 ? new PlacedItems(model.Version, []) : await grains.GetGrain<ICatalogueGrain>(0).PlacedAmong(new Immutable<string[]>(outside));
                _placed = new Placed(placed.ModelVersion, placed.ItemIds.ToHashSet(StringComparer.Ordinal));
            }
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

    private sealed record Placed(string? Version, IReadOnlySet<string> Ids);
}
