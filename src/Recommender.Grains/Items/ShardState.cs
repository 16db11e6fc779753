using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>
/// What a shard persists: the rows it was given on top of its model partition (titles for model items, and the
/// vectors of items added later or re-embedded), in the order they first arrived, so rows are stable across activations.
/// </summary>
[GenerateSerializer, Alias("recommender.shard-state")]
public sealed class ShardState
{
    [Id(0)] public List<ShardEntry> Entries { get; set; } = [];

    /// <summary>
    /// Whether the entries list every catalogue item among the model rows, so that a row without one is an item the
    /// catalogue does not have and is not recommended. Shards prepared before this was kept recommend every row.
    /// </summary>
    [Id(1)] public bool ListsCatalogue { get; set; }
}
