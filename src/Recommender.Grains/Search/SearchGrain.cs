using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Search;

/// <summary>
/// Scatter-gather over the active model's shards: every shard returns its own top-K in parallel, the union is cut
/// to the global top-K, and the scores are the softmax over those candidates.
/// </summary>
[StatelessWorker]
public sealed class SearchGrain(CatalogueCache catalogue, ItemLocator locator, IOptions<ServingOptions> options) : Grain, ISearchGrain
{
    public async Task<Abstractions.Ranking> Search(Immutable<byte[]> query, int k, Immutable<string[]> exclude, RankingSource source)
    {
        var model = (await catalogue.GetAsync()).Model ?? throw new InvalidOperationException("No model is active.");
        var vector = VectorBytes.ToFloats(query.Value);
        if (vector.Length != model.Dimension)
            throw new ArgumentException($"Query has {vector.Length} values; model '{model.Version}' has dimension {model.Dimension}.");
        if (model.Similarity == Recommender.Model.Packaging.SimilarityKinds.Cosine)
        {
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
        }
        var normalised = new Immutable<byte[]>(VectorBytes.FromFloats(vector));
        var calls = new Task<Immutable<ScoredItem[]>>[model.Shards];
        for (var i = 0; i < calls.Length; i++)
            calls[i] = GrainFactory.GetGrain<IItemShardGrain>(new ShardKey(model.Version, i, model.Shards).ToString()).TopK(normalised, k, exclude);
        var perShard = await Task.WhenAll(calls);
        var merged = SoftmaxRanking.Merge(perShard.Select(s => (IReadOnlyList<ScoredItem>)s.Value), k);
        return new Abstractions.Ranking(SoftmaxRanking.Rank(merged, options.Value.SoftmaxTemperature), model.Version, source, false);
    }

    public async Task<Abstractions.Ranking?> Similar(string itemId, int k)
    {
        var model = (await catalogue.GetAsync()).Model;
        if (model is null) return null;
        var placement = await locator.Locate(model, itemId);
        if (placement is null) return null;
        var vector = await GrainFactory.GetGrain<IItemShardGrain>(new ShardKey(model.Version, placement.Shard, model.Shards).ToString()).GetVector(itemId);
        if (vector is null) return null;
        return await Search(vector.Value, k, new Immutable<string[]>([itemId]), RankingSource.Similarity);
    }
}
