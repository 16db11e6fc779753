using Recommender.Abstractions;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Catalogue;

/// <summary>
/// Gives items outside a version's vocabulary a vector from their raw text vector: the version's text projection
/// replaces any earlier projection (made for another version) and any explicit embedding of another dimension, while
/// an explicit embedding of the version's dimension wins. A projection made for another version is never kept: without
/// a text vector to project again, or under a version without a projection, the item has no vector there.
/// The result carries no text vectors: shards keep only the vectors they score.
/// </summary>
public static class TextProjection
{
    /// <summary>Text vectors per projection call.</summary>
    public const int Batch = 1024;

    public static ShardEntry[] Apply(LoadedModel model, IReadOnlyList<ShardEntry> entries)
    {
        var result = entries.ToArray();
        var vectorBytes = model.Manifest.Dimension * sizeof(float);
        var pending = new List<int>();
        for (var i = 0; i < result.Length; i++)
        {
            var entry = result[i];
            // An embedding kept from a version of another dimension cannot be scored here.
            if (entry.Vector is { } stale && stale.Length != vectorBytes) result[i] = entry = entry with { Vector = null };
            if (model.DenseIds.ContainsKey(entry.ItemId)) continue;
            if (entry.Projected && (entry.TextVector is null || !model.HasTextProjection)) result[i] = entry = entry with { Vector = null, Projected = false };
            if (entry.TextVector is null || !model.HasTextProjection) continue;
            if (entry.Vector is { } v && !entry.Projected && v.Length == vectorBytes) continue;
            pending.Add(i);
        }
        foreach (var chunk in pending.Chunk(Batch))
        {
            var vectors = model.Project(chunk.Select(i => result[i].TextVector!).ToArray());
            for (var j = 0; j < chunk.Length; j++) result[chunk[j]] = result[chunk[j]] with { Vector = vectors[j], Projected = true };
        }
        for (var i = 0; i < result.Length; i++)
            if (result[i].TextVector is not null) result[i] = result[i] with { TextVector = null };
        return result;
    }
}
