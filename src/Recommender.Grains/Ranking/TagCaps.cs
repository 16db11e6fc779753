using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// A request's caps as a walk down a ranked list: each item is taken unless one of its capped tags already has its
/// count of items in the list, in which case it is passed over and the list is filled from further down. The walk's
/// choices depend only on the items above, so the capped list of a prefix of the ranking is the capped list of the
/// whole ranking as far as that prefix reaches: a list that fills up from the best N candidates is the exact answer,
/// and one that does not needs a deeper scan (<see cref="ScanDepth"/>) unless there is nothing deeper.
/// </summary>
public static class TagCaps
{
    /// <summary>Candidates to scan first for a capped list of <paramref name="depth"/> items: twice as many.</summary>
    public static int ScanDepth(int depth) => (int)Math.Min(2L * depth, int.MaxValue);

    /// <summary>The next scan when one of <paramref name="scanned"/> candidates did not fill the list: four times as many.</summary>
    public static int Deeper(int scanned) => (int)Math.Min(4L * scanned, int.MaxValue);

    /// <summary>Which of <paramref name="caps"/> an item carrying <paramref name="tags"/> counts against (bit i for cap i), ignoring case.</summary>
    public static int Mask(IReadOnlyList<TagCap>? caps, IReadOnlyList<string>? tags)
    {
        if (caps is null || caps.Count == 0 || tags is null || tags.Count == 0) return 0;
        var mask = 0;
        for (var c = 0; c < caps.Count; c++)
            foreach (var tag in tags)
                if (string.Equals(tag, caps[c].Tag, StringComparison.OrdinalIgnoreCase))
                {
                    mask |= 1 << c;
                    break;
                }
        return mask;
    }

    /// <summary>
    /// The items of <paramref name="ranked"/> (best first) that <paramref name="caps"/> let into a list, in order, at
    /// most <paramref name="depth"/>; <paramref name="capped"/> gives an item's cap bits (<see cref="Mask"/>).
    /// </summary>
    public static List<T> Take<T>(IEnumerable<T> ranked, Func<T, int> capped, IReadOnlyList<TagCap> caps, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var counts = new Counts(caps);
        var taken = new List<T>(Math.Min(depth, 1024));
        foreach (var item in ranked)
        {
            if (taken.Count == depth) break;
            var mask = capped(item);
            if (!counts.Admits(mask)) continue;
            counts.Add(mask);
            taken.Add(item);
        }
        return taken;
    }

    /// <summary>How many items of each capped tag a list holds so far.</summary>
    public sealed class Counts(IReadOnlyList<TagCap> caps)
    {
        private readonly int[] _taken = new int[caps.Count];

        /// <summary>Whether an item with cap bits <paramref name="mask"/> still fits: every cap it counts against has room.</summary>
        public bool Admits(int mask)
        {
            for (var c = 0; mask != 0; c++, mask >>= 1)
                if ((mask & 1) != 0 && _taken[c] >= caps[c].Count) return false;
            return true;
        }

        /// <summary>Counts an item with cap bits <paramref name="mask"/> into the list.</summary>
        public void Add(int mask)
        {
            for (var c = 0; mask != 0; c++, mask >>= 1)
                if ((mask & 1) != 0) _taken[c]++;
        }
    }
}
