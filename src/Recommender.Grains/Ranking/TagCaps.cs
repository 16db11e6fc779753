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

    /// <summary>
    /// What an item carrying <paramref name="tags"/> counts against under <paramref name="caps"/>: bit i for a cap i of one
    /// tag, and the item's tags (each once, ignoring case) that a cap of each tag under a prefix covers.
    /// </summary>
    public static CapMarks Marks(IReadOnlyList<TagCap>? caps, IReadOnlyList<string>? tags)
    {
        if (caps is null || caps.Count == 0 || tags is null || tags.Count == 0) return default;
        var mask = 0;
        List<string>? groups = null;
        for (var c = 0; c < caps.Count; c++)
            foreach (var tag in tags)
            {
                if (!caps[c].Covers(tag)) continue;
                if (!caps[c].Each)
                {
                    mask |= 1 << c;
                    break;
                }
                if (groups?.Contains(tag, StringComparer.OrdinalIgnoreCase) != true) (groups ??= []).Add(tag);
            }
        return new CapMarks(mask, groups?.ToArray());
    }

    /// <summary>What a shard's candidate counts against, as the shard marked it.</summary>
    public static CapMarks Of(ScoredItem item) => new(item.CappedTags, item.CappedGroups);

    /// <summary>
    /// The items of <paramref name="ranked"/> (best first) that <paramref name="caps"/> let into a list, in order, at
    /// most <paramref name="depth"/>; <paramref name="capped"/> gives what an item counts against (<see cref="Marks"/>).
    /// </summary>
    public static List<T> Take<T>(IEnumerable<T> ranked, Func<T, CapMarks> capped, IReadOnlyList<TagCap> caps, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var counts = new Counts(caps);
        var taken = new List<T>(Math.Min(depth, 1024));
        foreach (var item in ranked)
        {
            if (taken.Count == depth) break;
            var marks = capped(item);
            if (!counts.Admits(marks)) continue;
            counts.Add(marks);
            taken.Add(item);
        }
        return taken;
    }

    /// <summary>How many items of each capped tag a list holds so far.</summary>
    public sealed class Counts(IReadOnlyList<TagCap> caps)
    {
        private readonly int[] _taken = new int[caps.Count];

        // Per cap of each tag under a prefix, the items so far of each tag it covers.
        private readonly Dictionary<string, int>?[] _takenPerTag = new Dictionary<string, int>?[caps.Count];

        /// <summary>Whether an item that counts against <paramref name="marks"/> still fits: every cap it counts against has room.</summary>
        public bool Admits(CapMarks marks)
        {
            var mask = marks.Tags;
            for (var c = 0; mask != 0; c++, mask >>= 1)
                if ((mask & 1) != 0 && _taken[c] >= caps[c].Count) return false;
            if (marks.Groups is not { Length: > 0 } groups) return true;
            for (var c = 0; c < caps.Count; c++)
                if (caps[c].Each && _takenPerTag[c] is { } perTag)
                    foreach (var tag in groups)
                        if (caps[c].Covers(tag) && perTag.GetValueOrDefault(tag) >= caps[c].Count) return false;
            return true;
        }

        /// <summary>Counts an item that counts against <paramref name="marks"/> into the list.</summary>
        public void Add(CapMarks marks)
        {
            var mask = marks.Tags;
            for (var c = 0; mask != 0; c++, mask >>= 1)
                if ((mask & 1) != 0) _taken[c]++;
            if (marks.Groups is not { Length: > 0 } groups) return;
            for (var c = 0; c < caps.Count; c++)
                if (caps[c].Each)
                    foreach (var tag in groups)
                        if (caps[c].Covers(tag))
                        {
                            var perTag = _takenPerTag[c] ??= new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
                            perTag[tag] = perTag.GetValueOrDefault(tag) + 1;
                        }
        }
    }
}

/// <summary>
/// What an item counts against under a request's caps: <see cref="Tags"/> has bit i set for a cap i of one tag the item
/// carries; <see cref="Groups"/> holds the item's tags that caps of each tag under a prefix cover (null for none).
/// </summary>
public readonly record struct CapMarks(int Tags, string[]? Groups);
