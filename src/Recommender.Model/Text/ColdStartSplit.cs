using Recommender.Model.Data;
using Recommender.Model.Nn;

namespace Recommender.Model.Text;

/// <summary>A test event whose item was held out of training: known-item history, the held-out target, and everything already seen.</summary>
/// <param name="History">Known items (dense 1..K) before the event, oldest first: what the encoder reads.</param>
/// <param name="Target">The held-out item, K + 1..K + H in the extended catalogue.</param>
/// <param name="Seen">Every item of the extended catalogue the user met before the event (removed from the ranking).</param>
public sealed record ColdStartCase(int[] History, int Target, int[] Seen);

/// <summary>
/// Item cold-start split: a seeded fraction of the items (among those with text) is removed from training entirely.
/// The remaining items are re-numbered densely 1..K and split leave-one-out per user as usual; the held-out items
/// become K + 1..K + H of an extended catalogue, and every event on one of them (with at least one known item before
/// it) is a cold-start case.
/// </summary>
public sealed record ColdStartSplit(
    LeaveOneOutSplit Known,
    IReadOnlyList<string> HeldOutItemIds,
    IReadOnlyList<ColdStartCase> ColdCases)
{
    public int KnownItemCount => Known.Train.ItemCount;

    public int HeldOutItemCount => HeldOutItemIds.Count;

    /// <summary>Known items then held-out items: external id of extended item i + 1 at index i.</summary>
    public IReadOnlyList<string> ExtendedItemIds => [.. Known.Train.ItemIds, .. HeldOutItemIds];

    /// <exception cref="ArgumentException">The fraction is not in (0, 1), or it leaves nothing to hold out or nothing to train on.</exception>
    public static ColdStartSplit Create(SequenceDataset data, IReadOnlySet<string> itemsWithText, double holdout, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(itemsWithText);
        if (!(holdout > 0 && holdout < 1)) throw new ArgumentException($"The held-out fraction must be between 0 and 1 (exclusive), got {holdout}.", nameof(holdout));
        var candidates = Enumerable.Range(1, data.ItemCount).Where(i => itemsWithText.Contains(data.ItemIds[i - 1])).ToArray();
        var count = Math.Min(candidates.Length, (int)Math.Round(holdout * data.ItemCount));
        if (count == 0)
            throw new ArgumentException(candidates.Length == 0
                ? "No item of the interaction data has a text vector, so none can be held out and scored from text."
                : $"Holding out {holdout} of {data.ItemCount} items rounds to none.", nameof(holdout));
        if (count >= data.ItemCount) throw new ArgumentException($"Holding out {count} of {data.ItemCount} items leaves nothing to train on.", nameof(holdout));
        var rng = SplitMix.For(seed, 0xC01D);
        for (var i = candidates.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
        }
        // Held-out items in their original (sorted) order, so the extended numbering does not depend on the shuffle.
        var heldOut = candidates.Take(count).Order().ToArray();
        var knownCount = data.ItemCount - count;
        // newId[original] = 1..K for known items, K + 1..K + H for held-out ones.
        var newId = new int[data.ItemCount + 1];
        var isHeldOut = new bool[data.ItemCount + 1];
        foreach (var item in heldOut) isHeldOut[item] = true;
        var knownIds = new List<string>(knownCount);
        for (var i = 1; i <= data.ItemCount; i++)
        {
            if (isHeldOut[i]) continue;
            knownIds.Add(data.ItemIds[i - 1]);
            newId[i] = knownIds.Count;
        }
        for (var h = 0; h < heldOut.Length; h++) newId[heldOut[h]] = knownCount + 1 + h;

        var sequences = new List<int[]>(data.UserCount);
        var cold = new List<ColdStartCase>();
        foreach (var sequence in data.Sequences)
        {
            var known = new List<int>(sequence.Length);
            var seenHeldOut = new List<int>();
            foreach (var item in sequence)
            {
                if (!isHeldOut[item])
                {
                    known.Add(newId[item]);
                    continue;
                }
                var target = newId[item];
                if (known.Count > 0)
                    cold.Add(new ColdStartCase(known.ToArray(), target, [.. known.Distinct(), .. seenHeldOut.Where(s => s != target).Distinct()]));
                seenHeldOut.Add(target);
            }
            sequences.Add(known.ToArray());
        }
        var knownData = new SequenceDataset(sequences, knownIds, data.UserIds);
        return new ColdStartSplit(LeaveOneOutSplit.Create(knownData), heldOut.Select(i => data.ItemIds[i - 1]).ToArray(), cold);
    }
}
