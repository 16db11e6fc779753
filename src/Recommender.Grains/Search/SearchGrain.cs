using System.Numerics.Tensors;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Search;

/// <summary>
/// Scatter-gather over one model version's shards: every shard returns its own filtered top-K in parallel, the
/// union is cut to the global top-K (or, for a diverse list, to a pool from which the K are picked), and the scores
/// are the softmax over those candidates (for a later page, over the list down to the page's end). The caller passes
/// the version it read, so inference and every shard of one answer use the same one. Reentrant: it holds nothing, and
/// a worker waiting on its shards takes the next query rather than leaving it queued behind the workers (one per core).
/// </summary>
[StatelessWorker, Reentrant]
public sealed class SearchGrain(CatalogueCache catalogue, ItemLocator locator, IOptions<ServingOptions> options) : Grain, ISearchGrain
{
    public async Task<Abstractions.Ranking> Search(ActiveModel model, Immutable<byte[]> query, ScanFilter filter, RankingSource source)
    {
        var vector = VectorBytes.ToFloats(query.Value);
        if (vector.Length != model.Dimension)
            throw new ArgumentException($"Query has {vector.Length} values; model '{model.Version}' has dimension {model.Dimension}.");
        if (model.Similarity == Recommender.Model.Packaging.SimilarityKinds.Cosine)
        {
            var norm = TensorPrimitives.Norm(vector);
            if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
        }
        var normalised = new Immutable<byte[]>(VectorBytes.FromFloats(vector));
        // A later page is the tail of the list ranked to its end, so that pages read in turn make up one list.
        // A diverse list is picked from a larger pool of the best items, whose vectors the shards send along.
        var diverse = filter.Diversity > 0;
        var caps = filter.Caps is { Length: > 0 } given ? given : null;
        var depth = diverse ? DiverseSelection.PoolSize(filter.Depth) : filter.Depth;
        // A capped list passes over items: it scans deeper from the start, but for a diverse one, whose pool is its own.
        // Walked in order, it needs only the rows the caps may still take, which the shards pick out (CapSurvivors).
        var walked = caps is not null && !diverse;
        // The shards leave pinned items out of their ranking (so that no page lists one twice) and send after it those the
        // list may hold; under caps each counts against the caps of its tags wherever its place, so that every page's
        // ranking makes the same room for it. A list with slots needs no deeper ranking: each slot's item takes a place,
        // and passes over at most one ranked item; the shards send each slot tag's best rows last.
        // Under caps a diverse list's slots are ranked as deep as its pool, whose caps may pass over a tag's best (and a
        // deeper pool while a slot finds none they let in); a walked list's only once a slot finds no such item (below).
        var scan = filter with { K = walked ? TagCaps.ScanDepth(depth) : depth, Offset = 0, CapSurvivors = walked, DeepSlots = diverse && caps is not null };
        var hasSlots = filter.Slots?.Any(s => s.Position <= filter.Depth) == true;
        Dictionary<string, ScoredItem[]>? slotCandidates = null;
        Dictionary<string, int>? slotRowsFromOneShard = null;
        Dictionary<string, string>? slotted = null;
        PinScan? pins = null;
        CapMarks[]? taken = null;
        ItemPin[] placed = [];
        float[][] shown = [];
        ScoredItem[] merged;
        while (true)
        {
            var calls = new Task<Immutable<ScoredItem[]>>[model.Shards];
            for (var i = 0; i < calls.Length; i++)
                calls[i] = Shard(model, i).TopK(normalised, scan);
            var perShard = await Task.WhenAll(calls);
            var candidates = perShard.Select(s => (IReadOnlyList<ScoredItem>)s.Value).ToArray();
            if (hasSlots) (candidates, slotCandidates, slotRowsFromOneShard) = TagSlots.Split(candidates);
            if (filter.Pins is { Length: > 0 })
            {
                var split = PinnedItems.Split(candidates);
                candidates = split.Ranked;
                pins ??= split;
                taken ??= caps is null ? null : [.. split.Pinned.Values.Select(TagCaps.Of)];
                // A pinned item ranks by its similarity and boosts as any other, for its share of the list; only its place is set.
                placed = [.. PinnedItems.Within(filter.Pins, filter.Depth).Where(p => pins.Pinned.ContainsKey(p.ItemId))];
                // A diverse list's picks keep apart from its pinned items as from each other (a diverse scan sends their vectors).
                shown = [.. placed.Select(p => pins.Pinned[p.ItemId].Vector).OfType<byte[]>().Select(v => VectorBytes.ToFloats(v))];
            }
            if (walked)
            {
                bool final;
                if (slotCandidates is not { } byTag) (merged, final) = TagCaps.FromShards(candidates, scan.K, caps!, filter.Depth, taken);
                else
                {
                    // Under caps a slot's item counts against them, so the slots are placed in the walk down the ranking; a
                    // slot left without an item the caps let in needs a deeper scan while a shard may have more of its tag.
                    var (reached, whole) = TagCaps.Reached(candidates, scan.K);
                    var slots = TagSlots.AmongUnpinned(filter.Slots, placed, filter.Depth);
                    var filled = TagSlots.Fill(reached, slots, tag => byTag.GetValueOrDefault(tag) ?? [], c => c.ItemId, filter.Depth, TagCaps.Of, caps, taken);
                    merged = [.. filled.Select(f => f.Item)];
                    slotted = TagSlots.Placed(filled, c => c.ItemId);
                    var starved = TagSlots.Starved(slots, filled, f => f.Slot, SlotTagMayHaveMore);
                    final = whole || scan.K == int.MaxValue || (filled.Length == filter.Depth && !starved);
                    // A starved slot first asks for its tag as deep as the scan already goes; then both go deeper.
                    if (!final && starved && !scan.DeepSlots)
                    {
                        scan = scan with { DeepSlots = true };
                        continue;
                    }
                }
                if (final) break;
                scan = scan with { K = TagCaps.Deeper(scan.K) };
                continue;
            }
            merged = SoftmaxRanking.Merge(candidates, scan.K);
            var picked = Pick(merged);
            if (caps is null)
            {
                merged = picked;
                break;
            }
            // The capped diverse pool of the best scan.K candidates is picked from; one that does not fill needs a deeper
            // scan while a shard had more to give; when none had, the shards gave every candidate there is, and the list
            // is picked from all of them.
            var complete = candidates.All(c => c.Count < scan.K);
            if (picked.Length < filter.Depth && complete && candidates.Sum(c => c.Count) > merged.Length)
                picked = Pick(SoftmaxRanking.Merge(candidates, int.MaxValue));
            // So does a slot left without an item the caps let in while a shard may have more of its tag.
            var starvedSlot = slotCandidates is not null
                && TagSlots.Starved(TagSlots.AmongUnpinned(filter.Slots, placed, filter.Depth), picked, p => p.Slot, SlotTagMayHaveMore);
            if (((picked.Length == filter.Depth || complete) && !starvedSlot) || scan.K == int.MaxValue)
            {
                merged = picked;
                break;
            }
            scan = scan with { K = TagCaps.Deeper(scan.K) };
        }

        // A shard that sent as many rows of a slot's tag as it was asked for may have more.
        bool SlotTagMayHaveMore(string tag) => slotRowsFromOneShard!.GetValueOrDefault(tag) >= TagSlots.Depth(
            filter.Slots!.Where(s => string.Equals(s.Tag, tag, StringComparison.OrdinalIgnoreCase)), scan.K, scan.DeepSlots);

        // The list from candidates ranked best first: as they come, or picked for diversity (under the caps, if any; a
        // diverse pick places the slots as it goes, and keeps apart from their items as from its own picks).
        ScoredItem[] Pick(ScoredItem[] ranked) => diverse
            ? DiverseSelection.Select(ranked, filter.Depth, filter.Diversity, caps, taken, shown, slotCandidates is null ? null
                // A shard of the release before sends slot rows without vectors: those cannot be kept apart from, so they fill no slot.
                : [.. TagSlots.AmongUnpinned(filter.Slots, placed, filter.Depth).Select(s =>
                    (s.Position, (IReadOnlyList<ScoredItem>)[.. (slotCandidates.GetValueOrDefault(s.Tag) ?? []).Where(c => c.Vector is not null)]))])
            : ranked;
        // Slots take their places among those the pins leave; a pin the list cannot hold leaves its place to a slot there.
        if (slotCandidates is not null && diverse)
            slotted = merged.Where(m => m.Slot is not null).ToDictionary(m => m.ItemId, m => m.Slot!, StringComparer.Ordinal);
        else if (slotCandidates is not null && !walked)
        {
            var filled = TagSlots.Fill(merged, TagSlots.AmongUnpinned(filter.Slots, placed, filter.Depth),
                tag => slotCandidates.GetValueOrDefault(tag) ?? [], c => c.ItemId, filter.Depth);
            merged = [.. filled.Select(f => f.Item)];
            slotted = TagSlots.Placed(filled, c => c.ItemId);
        }
        if (placed.Length > 0)
            merged = PinnedItems.Place(merged, placed.Select(p => (p.Position, pins!.Pinned[p.ItemId])), filter.Depth);
        var ranked = TagSlots.Mark(PinnedItems.Mark(SoftmaxRanking.Rank(merged, options.Value.SoftmaxTemperatureFor(model.Similarity)),
            placed.Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal)), slotted);
        var unfilled = TagSlots.Unfilled(filter.Slots, placed.Select(p => p.Position), filter.Offset, filter.Depth, [.. merged.Select(m => m.ItemId)], slotted,
            tag => slotCandidates?.GetValueOrDefault(tag)?.Select(c => c.ItemId) ?? []);
        return new Abstractions.Ranking(filter.Offset == 0 ? ranked : ranked.Length > filter.Offset ? ranked[filter.Offset..] : [], model.Version, source, false,
            PinnedItems.Unplaced(filter.Pins, filter.Offset, filter.Depth, pins),
            await TagSlots.TellNoItemsApart(unfilled, tag => TaggedItems.AnyListedAsync(GrainFactory, model, tag)));
    }

    public Task<Abstractions.Ranking?> Similar(string itemId, int k) => Similar(itemId, new ScanFilter(k, []));

    public async Task<LatestItems?> Latest(ScanFilter filter)
    {
        var model = (await catalogue.GetAsync()).Model;
        if (model is null) return null;
        var caps = filter.Caps is { Length: > 0 } given ? given : null;
        var depth = filter.Depth;
        // As in the other lists: the pinned items the list may hold (looked up on their own: an order by time has no score
        // for them), within the depth to be placed and under caps every one, counted first; all of them leave the newest rows.
        var pins = PinnedItems.Within(filter.Pins, caps is null ? depth : int.MaxValue);
        var pinScan = await PinnedItems.FindAsync(GrainFactory, model, pins, filter with { Slots = null, DeepSlots = false });
        CapMarks[]? taken = caps is null || pinScan.Pinned.Count == 0 ? null : [.. pinScan.Pinned.Values.Select(TagCaps.Of)];
        var placed = pins.Where(p => p.Position <= depth && pinScan.Pinned.ContainsKey(p.ItemId)).ToArray();
        var slots = TagSlots.AmongUnpinned(filter.Slots, placed, depth);
        var scan = filter with
        {
            Offset = 0, Pins = null, Slots = slots.Length == 0 ? null : filter.Slots, CapSurvivors = caps is not null,
            Exclude = filter.Pins is { Length: > 0 } pinned ? [.. filter.Exclude, .. pinned.Select(p => p.ItemId)] : filter.Exclude,
        };
        // A capped list passes over items: it reads deeper, four times as deep each time, until the walk is sure.
        var read = NewestItems.FirstRead(depth, caps is not null);
        NewestWalk walk;
        while (true)
        {
            var asked = read;
            var perShard = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
                Shard(model, i).Latest(scan with { K = asked })));
            walk = NewestItems.Walk([.. perShard.Select(s => (IReadOnlyList<ScoredItem>)s.Value)], asked, depth, slots, scan.DeepSlots, caps, taken);
            if (walk.Next == NextRead.None) break;
            if (walk.Next == NextRead.DeeperSlots) scan = scan with { DeepSlots = true };
            else read = TagCaps.Deeper(read);
        }
        var filled = walk.Filled;
        var slotted = TagSlots.Placed(filled, s => s.ItemId);
        var list = PinnedItems.Place([.. filled.Select(f => f.Item)], placed.Select(p => (p.Position, pinScan.Pinned[p.ItemId])), depth);
        var placedIds = placed.Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal);
        var unfilled = TagSlots.Unfilled(filter.Slots, placed.Select(p => p.Position), filter.Offset, depth, [.. list.Select(s => s.ItemId)], slotted,
            tag => walk.SlotCandidates.GetValueOrDefault(tag)?.Select(c => c.ItemId) ?? []);
        return new LatestItems(model.Version,
            [.. list.Skip(filter.Offset).Take(filter.K).Select(s => new LatestItem(s.ItemId, s.Title, s.AvailableFrom ?? DateTimeOffset.MinValue,
                placedIds.Contains(s.ItemId), slotted.GetValueOrDefault(s.ItemId)))],
            PinnedItems.Unplaced(filter.Pins, filter.Offset, depth, pinScan),
            await TagSlots.TellNoItemsApart(unfilled, tag => TaggedItems.AnyListedAsync(GrainFactory, model, tag)));
    }

    public async Task<FoundItems?> FindTitles(string text, int k)
    {
        var model = (await catalogue.GetAsync()).Model;
        if (model is null) return null;
        var perShard = await Task.WhenAll(Enumerable.Range(0, model.Shards).Select(i =>
            Shard(model, i).FindTitles(text, k)));
        // Each shard's first k hold the first k of all.
        return new FoundItems(model.Version, [.. perShard.SelectMany(s => s.Value).Select(f => (f.ItemId, f.Title, f.Closeness)).Order(TitleMatches.Order).Take(k)
            .Select(m => new FoundItem(m.ItemId, m.Title, m.Closeness))]);
    }

    private IItemShardGrain Shard(ActiveModel model, int index) => GrainFactory.GetGrain<IItemShardGrain>(new ShardKey(model.Version, index, model.Shards).ToString());

    public async Task<Abstractions.Ranking?> Similar(string itemId, ScanFilter filter)
    {
        var model = (await catalogue.GetAsync()).Model;
        if (model is null) return null;
        var placement = await locator.Locate(model, itemId);
        if (placement is null) return null;
        var vector = await Shard(model, placement.Shard).GetVector(itemId);
        if (vector is null) return null;
        var ranking = await Search(model, vector.Value, filter with { Exclude = [itemId, .. filter.Exclude] }, RankingSource.Similarity);
        return ranking with { UnplacedPins = PinnedItems.Explain(ranking.UnplacedPins, id => id == itemId ? PinRefusal.Itself : PinRefusal.Excluded) };
    }
}
