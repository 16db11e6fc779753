using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Grains.Popularity;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Ranks the catalogue for a chronological history: its interest vector searched across the active version's shards,
/// or the popularity list when the model knows none of it. The user grain (a stored history, whose vector it caches)
/// and the session grain (a history sent with the request) both rank through it, so the same history ranks alike.
/// </summary>
public sealed class HistoryRanker(IGrainFactory grains, CatalogueCache catalogue, PopularityCache popularity, ModelRegistry models,
    IOptions<ServingOptions> options, ILogger<HistoryRanker> logger)
{
    /// <summary>The answer while no model is active or the catalogue is still loading: an empty version says so.</summary>
    public static readonly Abstractions.Ranking NotReady = new([], "", RankingSource.Popularity, false);

    /// <summary>
    /// The encoder's input: the most recent items the model knows, as many as it was trained to read, from
    /// <paramref name="recent"/> (given that count and the model's vocabulary test).
    /// </summary>
    public string[] EncoderInput(string modelVersion, Func<int, Func<string, bool>, string[]> recent)
    {
        var loaded = models.Get(modelVersion);
        return recent(loaded.Manifest.MaxLength, loaded.DenseIds.ContainsKey);
    }

    /// <summary>The interest vector of <paramref name="items"/>, or null when it would rank nothing (all zeros, NaN or infinity).</summary>
    public async Task<byte[]?> Encode(string modelVersion, string[] items, string whose)
    {
        if (items.Length == 0) return null;
        var encoded = await grains.GetGrain<IInferenceGrain>(0).Encode(modelVersion, new Immutable<string[]>(items));
        var vector = VectorBytes.AsFloats(encoded.Value);
        // A vector with NaN or infinity would rank nothing: the caller gets the popular list, and the operator a warning.
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(vector))
        {
            logger.LogWarning("Model {Version} encoded the history of {Whose} as a non-finite vector; serving the popular list", modelVersion, whose);
            return null;
        }
        return vector.ContainsAnyExcept(0f) ? encoded.Value : null;
    }

    /// <summary>
    /// The top-K of <paramref name="request"/> under <paramref name="model"/> (the snapshot's active model or its
    /// candidate) for <paramref name="vector"/>, leaving out <paramref name="seen"/> unless the request includes seen
    /// items, and <paramref name="dismissed"/> (a subset of it) always; without a vector, the popularity list under the
    /// active model, the same on both sides of a candidate. Explanations, when asked, come from
    /// <paramref name="recentDistinct"/> (most recent first).
    /// </summary>
    public async Task<Abstractions.Ranking> Rank(CatalogueSnapshot snapshot, ActiveModel model, RecommendationRequest request, IEnumerable<string> seen,
        IEnumerable<string> dismissed, byte[]? vector, bool cached, Func<IReadOnlyList<string>> recentDistinct)
    {
        string[] exclude = request.IncludeSeen ? [.. dismissed, .. request.Exclude ?? []] : [.. seen, .. request.Exclude ?? []];
        if (vector is not null)
        {
            var ranking = await grains.GetGrain<ISearchGrain>(0)
                .Search(model, new Immutable<byte[]>(vector), ScanFilter.For(request, exclude), RankingSource.Model) with { Cached = cached };
            ranking = ranking with { UnplacedPins = PinnedItems.Explain(ranking.UnplacedPins, WhyExcluded) };
            return request.Explain ? await HistoryExplanations.AddTo(ranking, model, recentDistinct(), grains) : ranking;
        }
        var active = snapshot.Model ?? throw new ArgumentException("The snapshot has no active model.", nameof(snapshot));
        var (items, unplaced, unfilled) = await Popular(active, snapshot.Popular, request, exclude);
        return new Abstractions.Ranking(items, active.Version, RankingSource.Popularity, false, PinnedItems.Explain(unplaced, WhyExcluded), unfilled);

        // The shards were given the request's exclusions with the list's own: the history's items (or the dismissed ones alone).
        PinRefusal WhyExcluded(string itemId) =>
            request.Exclude?.Contains(itemId, StringComparer.Ordinal) == true ? PinRefusal.Excluded
            : dismissed.Contains(itemId, StringComparer.Ordinal) ? PinRefusal.Dismissed
            : PinRefusal.Seen;
    }

    /// <summary>
    /// The live popular list, topped up from the seeded one, restricted to the version's items and the request's
    /// filters, in the order of the counts times the request's boosts; with a diversity above 0, picked from the most
    /// popular 4·k by maximal marginal relevance over the items' vectors in the version's shards, as a model list is
    /// picked from the most similar; with caps, each item taken unless a capped tag of its is full (the pool, or the
    /// boosted order, going deeper until the list is full or the items run out).
    /// </summary>
    private async Task<(RankedItem[] Items, UnplacedPin[]? UnplacedPins, UnfilledSlot[]? UnfilledSlots)> Popular(ActiveModel model, IReadOnlyList<PopularItem> seeded, RecommendationRequest request,
        string[] exclude)
    {
        var vocabulary = models.Get(model.Version).DenseIds;
        var excluded = exclude.ToHashSet(StringComparer.Ordinal);
        var hidden = catalogue.Hidden.Ids;
        var live = await popularity.GetAsync();
        // Pinned items are left out of the ranking wherever their place, as in a model's list.
        var pinnedIds = (request.Pins ?? []).Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal);
        var (anyOf, noneOf) = (request.AnyTags, request.ExcludeTags ?? []);
        // One clock for the list: the items within its maximum age and their freshness are as of the same moment.
        var now = DateTimeOffset.UtcNow;
        DateTimeOffset? oldest = request.MaxAge is { } maxAge ? now - maxAge : null;
        // The merge sorts every item on its first read, so it is read into an array once: a list with slots reads it again for each tag.
        var candidates = PopularCandidates.Merge(live, seeded, options.Value.Popularity.MinimumLiveCount).ToArray()
            .Where(p => popularity.Servable(model.Version, vocabulary, p.ItemId) && !hidden.Contains(p.ItemId))
            .Where(p => TagMatch.Matches(p.Tags, anyOf, noneOf) && !excluded.Contains(p.ItemId) && !pinnedIds.Contains(p.ItemId))
            // Within the maximum age, by each item's availableFrom: an item without one has no age to be within it.
            .Where(p => oldest is null || p.AvailableFrom >= oldest);
        var depth = request.Offset + request.K;
        var caps = request.Caps is { Length: > 0 } given ? given : null;
        var marker = caps is null ? null : new TagCaps.Marker(caps);
        CapMarks Capped(PopularItem p) => marker?.Marks(p.Tags) ?? default;
        // As in a model's list: the pinned items within the depth to be placed, and under caps every one, counted first.
        var pins = PinnedItems.Within(request.Pins, caps is null ? depth : int.MaxValue);
        var pinScan = await PinnedItems.FindAsync(grains, model, pins,
            new ScanFilter(depth, exclude, request.Tag, Tags: request.Tags, ExcludeTags: request.ExcludeTags, Caps: caps, Fresh: request.Fresh, MaxAge: request.MaxAge));
        var pinnable = pinScan.Pinned;
        CapMarks[]? taken = caps is null || pinnable.Count == 0 ? null : [.. pinnable.Values.Select(TagCaps.Of)];
        // The best n in the list's order: by count, or by count times the boosts (tags' and freshness').
        var boosts = PopularBoosts.Of(request, now);
        PopularItem[] Ordered(int n) => boosts is not null ? SoftmaxRanking.Boosted(candidates, boosts, n) : [.. candidates.Take(n)];
        var placed = pins.Where(p => p.Position <= depth && pinnable.ContainsKey(p.ItemId)).ToArray();
        IEnumerable<PopularItem> listed;
        // Slots take the best of their tags' candidates in the list's order, among the places the pins leave.
        var slots = TagSlots.AmongUnpinned(request.Slots, placed, depth);
        IEnumerable<PopularItem> OfTag(string tag) => candidates.Where(p => p.Tags?.Contains(tag, StringComparer.OrdinalIgnoreCase) == true);
        // A tag's best in the list's order, as many as its slots need (TagSlots.Depth; under caps, as deep as the list is read).
        PopularItem[] SlotCandidates(string tag, int read = 0)
        {
            var count = TagSlots.Depth(slots.Where(s => string.Equals(s.Tag, tag, StringComparison.OrdinalIgnoreCase)), read, deep: caps is not null);
            return boosts is not null ? SoftmaxRanking.Boosted(OfTag(tag), boosts, count) : [.. OfTag(tag).Take(count)];
        }
        Dictionary<string, PopularItem[]> SlotCandidatesByTag(int read) => slots.Select(s => s.Tag).Distinct(StringComparer.OrdinalIgnoreCase)
            .ToDictionary(tag => tag, tag => SlotCandidates(tag, read), StringComparer.OrdinalIgnoreCase);
        // Under caps a slot's item counts against them, so the slots are placed in the walk down the list's order.
        (PopularItem Item, string? Slot)[] FillUnderCaps(IEnumerable<PopularItem> ordered, Func<string, IEnumerable<PopularItem>> ofTag) =>
            TagSlots.Fill(ordered, slots, ofTag, p => p.ItemId, depth, Capped, caps, taken);
        Dictionary<string, string>? slotted = null;
        if (request.Diversity > 0)
        {
            for (var size = DiverseSelection.PoolSize(depth); ; size = TagCaps.Deeper(size))
            {
                var pool = Ordered(size);
                var ofSlots = SlotCandidatesByTag(size);
                // The pinned items' vectors too: the picks keep apart from them as from each other; and the slots' candidates'.
                var vectors = await ItemVectors.ReadAsync(grains, model,
                    [.. pool.Select(p => p.ItemId), .. placed.Select(p => p.ItemId), .. ofSlots.Values.SelectMany(c => c).Select(p => p.ItemId)]);
                float[][] shown = [.. placed.Where(p => vectors.ContainsKey(p.ItemId)).Select(p => vectors[p.ItemId].Vector)];
                // Relevance is the log count, the popular list's own score, with the boosts; an item no shard holds is not servable now.
                ScoredItem[] Scored(IEnumerable<PopularItem> items, string? slot) => [.. items.Where(p => vectors.ContainsKey(p.ItemId))
                    .Select(p => (Item: p, Marks: Capped(p)))
                    .Select(p => new ScoredItem(p.Item.ItemId, p.Item.Title, SoftmaxRanking.LogCount(p.Item), VectorBytes.FromFloats(vectors[p.Item.ItemId].Vector),
                        (float)(boosts?.LogFactor(p.Item) ?? 0), p.Marks.Tags, p.Marks.Groups, Slot: slot))];
                var picked = DiverseSelection.Select(Scored(pool, null), depth, request.Diversity, caps, taken, shown,
                    [.. slots.Select(s => (s.Position, (IReadOnlyList<ScoredItem>)Scored(ofSlots[s.Tag], s.Tag)))]);
                // Under caps a pick that does not fill needs a deeper pool, and so does a slot left without an item the caps
                // let in while its tag may have more.
                if (caps is null || ((picked.Length == depth || pool.Length < size) && !TagSlots.Starved(slots, picked, p => p.Slot, tag => ofSlots[tag].Length == size))
                    || size == int.MaxValue)
                {
                    var byId = pool.Concat(ofSlots.Values.SelectMany(c => c)).DistinctBy(p => p.ItemId, StringComparer.Ordinal)
                        .ToDictionary(p => p.ItemId, StringComparer.Ordinal);
                    listed = picked.Select(s => byId[s.ItemId]);
                    slotted = picked.Where(s => s.Slot is not null).ToDictionary(s => s.ItemId, s => s.Slot!, StringComparer.Ordinal);
                    break;
                }
            }
        }
        else if (caps is null) listed = boosts is not null ? Ordered(depth) : candidates;
        else if (boosts is null)
        {
            if (slots.Length == 0) listed = TagCaps.Take(candidates, Capped, caps, depth, taken);
            else
            {
                var filled = FillUnderCaps(candidates, OfTag);
                listed = filled.Select(f => f.Item);
                slotted = TagSlots.Placed(filled, p => p.ItemId);
            }
        }
        else
        {
            // The boosted order is found for the best n only: a capped list that does not fill from them needs more, and
            // so does a slot left without an item the caps let in while its tag may have more.
            for (var size = TagCaps.ScanDepth(depth); ; size = TagCaps.Deeper(size))
            {
                var ordered = Ordered(size);
                var ofSlots = SlotCandidatesByTag(size);
                var filled = slots.Length == 0 ? [.. TagCaps.Take(ordered, Capped, caps, depth, taken).Select(p => (p, (string?)null))]
                    : FillUnderCaps(ordered, tag => ofSlots[tag]);
                var starved = TagSlots.Starved(slots, filled, f => f.Slot, tag => ofSlots[tag].Length == size);
                if ((filled.Length == depth && !starved) || ordered.Length < size || size == int.MaxValue)
                {
                    listed = filled.Select(f => f.Item);
                    slotted = TagSlots.Placed(filled, p => p.ItemId);
                    break;
                }
            }
        }
        var unplaced = PinnedItems.Unplaced(request.Pins, request.Offset, depth, pinScan);
        // A diverse pick placed the slots as it went, and so did the walk under caps.
        if (slots.Length > 0 && request.Diversity == 0 && caps is null)
        {
            var filled = TagSlots.Fill([.. listed.Take(depth)], slots, tag => SlotCandidates(tag), p => p.ItemId, depth);
            listed = filled.Select(f => f.Item);
            slotted = TagSlots.Placed(filled, p => p.ItemId);
        }
        PopularItem[] list = [.. listed.Take(depth)];
        Task<UnfilledSlot[]?> Unfilled() => TagSlots.TellNoItemsApart(
            TagSlots.Unfilled(request.Slots, placed.Select(p => p.Position), request.Offset, depth, [.. list.Select(p => p.ItemId)], slotted,
                tag => SlotCandidates(tag, depth).Select(p => p.ItemId)),
            tag => TaggedItems.AnyListedAsync(grains, model, tag));
        if (placed.Length == 0) return (TagSlots.Mark(SoftmaxRanking.RankPopular(list, request.K, excluded, request.Offset, boosts), slotted), unplaced, await Unfilled());
        // A pinned item counts as much as it has counted so far (a new item nothing), servable or not.
        var placedIds = placed.Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal);
        var counts = PopularCandidates.CountsOf(live, seeded, options.Value.Popularity.MinimumLiveCount, placedIds);
        list = [.. PinnedItems.Place(list, placed.Select(p =>
            (p.Position, new PopularItem(p.ItemId, pinnable[p.ItemId].Title, counts.GetValueOrDefault(p.ItemId), pinnable[p.ItemId].Tags,
                pinnable[p.ItemId].AvailableFrom))), depth)];
        return (TagSlots.Mark(PinnedItems.Mark(SoftmaxRanking.RankPopular(list, request.K, excluded, request.Offset, boosts), placedIds), slotted), unplaced, await Unfilled());
    }
}
