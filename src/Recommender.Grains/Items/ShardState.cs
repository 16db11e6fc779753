using Recommender.Abstractions;

namespace Recommender.Grains.Items;

/// <summary>
/// What a shard persists in its grain state. The entries it was given on top of its model partition (titles for model
/// items, and the vectors of items added later or re-embedded) are kept as rows of their own (<see cref="IGrainRowStore"/>),
/// in the order they first arrived, so rows are stable across activations.
/// </summary>
[GenerateSerializer, Alias("recommender.shard-state")]
public sealed class ShardState
{
    /// <summary>
    /// The entries as earlier releases kept them, all in this state. They are copied into rows once and kept as they
    /// were then, so that rolling back to such a release still finds the shard as it was at the upgrade.
    /// </summary>
    [Id(0)] public List<ShardEntry> Entries { get; set; } = [];

    /// <summary>
    /// Whether the entries list every catalogue item among the model rows, so that a row without one is an item the
    /// catalogue does not have and is not recommended. Shards prepared before this was kept recommend every row.
    /// </summary>
    [Id(1)] public bool ListsCatalogue { get; set; }

    /// <summary>
    /// Set once the entries are in rows. An earlier release does not know the field and drops it when it writes the
    /// state, so after a rollback that wrote to the shard the next upgrade copies its entries again.
    /// </summary>
    [Id(2)] public bool EntriesInRows { get; set; }
}
