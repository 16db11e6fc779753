using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// Each silo's copy of the catalogue snapshot (active model, popularity list), refreshed at most once per TTL, so that
/// recommendation requests do not all call the catalogue singleton.
/// </summary>
public sealed class CatalogueCache(IGrainFactory grains, IOptions<ServingOptions> options)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private CatalogueSnapshot? _snapshot;
    private long _fetchedAt;
    // One reference, so that readers on other threads see a revision together with its set.
    private HiddenItems _hidden = new(-1, new HashSet<string>());

    public async ValueTask<CatalogueSnapshot> GetAsync()
    {
        var current = _snapshot;
        if (current is not null && Settled(current) && !Expired()) return current;
        await _refresh.WaitAsync();
        try
        {
            if (_snapshot is null || !Settled(_snapshot) || Expired())
            {
                _snapshot = await grains.GetGrain<ICatalogueGrain>(0).GetSnapshot();
                _fetchedAt = Environment.TickCount64;
            }
            return _snapshot;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Takes a snapshot pushed by the catalogue when it lives on this silo.</summary>
    public void Update(CatalogueSnapshot snapshot)
    {
        if (_snapshot is null || snapshot.Revision >= _snapshot.Revision)
        {
            _snapshot = snapshot;
            _fetchedAt = Environment.TickCount64;
        }
    }

    /// <summary>The hidden items of <paramref name="snapshot"/> as a set, built once per revision.</summary>
    public IReadOnlySet<string> Hidden(CatalogueSnapshot snapshot)
    {
        var current = _hidden;
        if (current.Revision == snapshot.Revision) return current.Ids;
        var ids = (snapshot.Hidden ?? []).ToHashSet(StringComparer.Ordinal);
        _hidden = new HiddenItems(snapshot.Revision, ids);
        return ids;
    }

    private sealed record HiddenItems(long Revision, IReadOnlySet<string> Ids);

    /// <summary>Until a model is active and any demo load has finished, every read asks the catalogue again.</summary>
    private static bool Settled(CatalogueSnapshot snapshot) => snapshot.Model is not null && !snapshot.Loading;

    private bool Expired() => Environment.TickCount64 - _fetchedAt > options.Value.CatalogueCacheTtl.TotalMilliseconds;
}
