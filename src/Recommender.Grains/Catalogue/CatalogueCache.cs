using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// Each silo's copy of the catalogue snapshot (active model, popularity list), refreshed at most once per TTL, so that
/// recommendation requests do not all call the catalogue singleton, and of the hidden items, fetched only when they
/// change.
/// </summary>
public sealed class CatalogueCache(IGrainFactory grains, IOptions<ServingOptions> options)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private CatalogueSnapshot? _snapshot;
    private long _fetchedAt;
    // One reference, so that readers on other threads see a token together with its set.
    private HiddenItems _hidden = new(0, new HashSet<string>());

    public async ValueTask<CatalogueSnapshot> GetAsync()
    {
        var current = _snapshot;
        if (current is not null && Settled(current) && !Expired()) return current;
        await _refresh.WaitAsync();
        try
        {
            if (_snapshot is null || !Settled(_snapshot) || Expired())
            {
                _snapshot = await grains.GetGrain<ICatalogueGrain>(0).GetSnapshotSince(_hidden.Token);
                _fetchedAt = Environment.TickCount64;
                TakeHidden(_snapshot);
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
            TakeHidden(snapshot);
        }
    }

    /// <summary>The hidden items as of the last snapshot taken (call <see cref="GetAsync"/> first), with their token.</summary>
    public HiddenItems Hidden => _hidden;

    /// <summary>A snapshot's hidden ids as a set, built once per change of the set.</summary>
    private void TakeHidden(CatalogueSnapshot snapshot)
    {
        if (snapshot.Hidden is { } ids && snapshot.HiddenToken != _hidden.Token)
            _hidden = new HiddenItems(snapshot.HiddenToken, ids.ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>Until a model is active and any demo load has finished, every read asks the catalogue again.</summary>
    private static bool Settled(CatalogueSnapshot snapshot) => snapshot.Model is not null && !snapshot.Loading;

    private bool Expired() => Environment.TickCount64 - _fetchedAt > options.Value.CatalogueCacheTtl.TotalMilliseconds;
}

/// <summary>The hidden items and the token of the catalogue's hidden set they came with.</summary>
public sealed record HiddenItems(long Token, IReadOnlySet<string> Ids);
