using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Text;

namespace Recommender.Grains.Items;

/// <summary>
/// Writes a batch of items: encodes their texts (shortest first, so each encoder batch pads little), stores them in
/// their buckets (one call and one transaction per bucket, not one per item) and places them all with one catalogue call.
/// </summary>
[StatelessWorker]
public sealed class ItemBatchGrain(TextEncoding text) : Grain, IItemBatchGrain
{
    /// <summary>Texts per encoder request: one request at a time keeps single PUTs from queueing behind a whole bulk load.</summary>
    private const int EncodeChunk = 32;

    public async Task<Immutable<ItemView[]>> Upsert(Immutable<ItemDetails[]> items)
    {
        var details = items.Value.ToArray();
        if (text.Enabled)
        {
            var pending = Enumerable.Range(0, details.Length)
                .Where(i => details[i].TextVector is null)
                .Select(i => (Index: i, Text: TextEncoding.Compose(details[i])))
                .OrderBy(p => p.Text.Length)
                .ToArray();
            foreach (var chunk in pending.Chunk(EncodeChunk))
            {
                var vectors = await text.EncodeAsync(chunk.Select(p => p.Text).ToArray());
                for (var j = 0; j < chunk.Length; j++) details[chunk[j].Index] = details[chunk[j].Index] with { TextVector = vectors[j] };
            }
        }
        // An update without an embedding keeps the one stored before, and is placed with it.
        var buckets = details.Select((d, i) => (Index: i, Details: d)).GroupBy(x => ItemBuckets.Of(x.Details.Id)).ToArray();
        var kept = await Task.WhenAll(buckets.Select(bucket =>
            GrainFactory.GetGrain<IItemBucketGrain>(bucket.Key).ImportKeepingEmbeddings(new Immutable<ItemDetails[]>(bucket.Select(x => x.Details).ToArray()))));
        for (var b = 0; b < buckets.Length; b++)
        {
            var members = buckets[b].ToArray();
            for (var j = 0; j < members.Length; j++) details[members[j].Index] = details[members[j].Index] with { Embedding = kept[b].Value[j] };
        }
        await GrainFactory.GetGrain<ICatalogueGrain>(0).SetHidden(
            new Immutable<string[]>(details.Where(d => d.Hidden).Select(d => d.Id).ToArray()),
            new Immutable<string[]>(details.Where(d => !d.Hidden).Select(d => d.Id).ToArray()));

        // Asked even before any model is active: the catalogue remembers the text items, which the first activation places.
        var placements = await GrainFactory.GetGrain<ICatalogueGrain>(0).PlaceItems(new Immutable<ShardEntry[]>(
            details.Select(ShardEntry.Written).ToArray()));
        var now = DateTimeOffset.UtcNow;
        return new Immutable<ItemView[]>(details.Select((d, i) => new ItemView(d with { TextVector = null }, placements[i], now, d.TextVector is not null)).ToArray());
    }

    public async Task<bool[]> Delete(Immutable<string[]> itemIds)
    {
        var ids = itemIds.Value;
        // Each bucket erases its copies in one transaction, each item its own state; then one catalogue call takes
        // them all out of the shards. A repeat after a failure finishes what is left.
        var buckets = ids.GroupBy(ItemBuckets.Of).ToArray();
        var bulk = await Task.WhenAll(buckets.Select(b => GrainFactory.GetGrain<IItemBucketGrain>(b.Key).Remove(new Immutable<string[]>([.. b]))));
        var inBucket = buckets.SelectMany((b, i) => b.Where((_, j) => bulk[i][j])).ToHashSet(StringComparer.Ordinal);
        var own = await Task.WhenAll(ids.Select(id => GrainFactory.Item(id).EraseOwnDetails()));
        await GrainFactory.GetGrain<ICatalogueGrain>(0).RemoveItems(itemIds);
        return [.. ids.Select((id, i) => own[i] || inBucket.Contains(id))];
    }
}
