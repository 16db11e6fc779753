using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Users;

/// <summary>
/// A user's ordered history (persisted before an ingest returns) and the interest vector derived from it, cached
/// in memory with the (model version, history version) it came from and recomputed only when either changes.
/// </summary>
public sealed class UserGrain(
    [PersistentState("user")] IPersistentState<UserState> state,
    CatalogueCache catalogue,
    IOptions<ServingOptions> options) : Grain, IUserGrain
{
    private UserHistory? _history;
    private CachedVector? _vector;
    private (long Version, string[] Items)? _distinctItems;

    private UserHistory History => _history ??= new UserHistory(state.State, options.Value.HistoryRetention);

    public async Task<IngestResult> Ingest(Immutable<UserEvent[]> events)
    {
        var result = History.Add(events.Value);
        if (result.Accepted > 0)
        {
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // The write failed: drop the in-memory change so that memory matches what is stored, and let the caller retry.
                _history = null;
                await state.ReadStateAsync();
                throw;
            }
        }
        return result;
    }

    public Task<UserHistoryView> GetHistory(int? limit) => Task.FromResult(History.View(limit));

    public async Task<Abstractions.Ranking> Recommend(int k)
    {
        var snapshot = await catalogue.GetAsync();
        // Nothing to serve until a model is active and the catalogue has finished loading: an empty version says so.
        if (snapshot.Model is null || snapshot.Loading) return new Abstractions.Ranking([], "", RankingSource.Popularity, false);
        var model = snapshot.Model;
        var seen = SeenItems();
        if (History.Events.Count > 0)
        {
            var (vector, cached) = await InterestVector(model.Version);
            if (vector is not null)
                return await GrainFactory.GetGrain<ISearchGrain>(0)
                    .Search(new Immutable<byte[]>(vector), k, new Immutable<string[]>(seen), RankingSource.Model) with { Cached = cached };
        }
        var excluded = seen.ToHashSet(StringComparer.Ordinal);
        return new Abstractions.Ranking(SoftmaxRanking.RankPopular(snapshot.Popular, k, excluded), model.Version, RankingSource.Popularity, false);
    }

    /// <summary>The interest vector for the current history under <paramref name="modelVersion"/>; null when no history item is known to the model.</summary>
    private async Task<(byte[]? Vector, bool Cached)> InterestVector(string modelVersion)
    {
        if (_vector is { } v && v.ModelVersion == modelVersion && v.HistoryVersion == History.Version) return (v.Vector, true);
        var recent = History.RecentItems(options.Value.HistoryWindow);
        var encoded = await GrainFactory.GetGrain<IInferenceGrain>(0).Encode(modelVersion, new Immutable<string[]>(recent));
        var vector = VectorBytes.AsFloats(encoded.Value).ContainsAnyExcept(0f) ? encoded.Value : null;
        _vector = new CachedVector(modelVersion, History.Version, vector);
        return (vector, false);
    }

    private string[] SeenItems()
    {
        if (_distinctItems is { } d && d.Version == History.Version) return d.Items;
        var items = History.DistinctItems();
        _distinctItems = (History.Version, items);
        return items;
    }

    private sealed record CachedVector(string ModelVersion, long HistoryVersion, byte[]? Vector);
}
