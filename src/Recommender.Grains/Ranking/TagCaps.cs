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
    public static CapMarks Marks(IReadOnlyList<TagCap>? caps, IReadOnlyList<string>? tags) =>
        caps is null || caps.Count == 0 ? default : new Marker(caps).Marks(tags);

    /// <summary>
    /// <see cref="Marks"/> for many items under one request's caps: what each tag counts against is worked out once, so
    /// a deep scan pays a lookup per tag of a row rather than a comparison with every cap.
    /// </summary>
    public sealed class Marker(IReadOnlyList<TagCap> caps)
    {
        // Caps compare tags ignoring case, so tags that differ only in case count against the same caps.
        private readonly Dictionary<string, (int Tags, bool Each)> _byTag = new(StringComparer.OrdinalIgnoreCase);

        public CapMarks Marks(IReadOnlyList<string>? tags)
        {
            if (tags is null || tags.Count == 0) return default;
            var mask = 0;
            List<string>? groups = null;
            foreach (var tag in tags)
            {
                var (bits, each) = Of(tag);
                mask |= bits;
                if (each && groups?.Contains(tag, StringComparer.OrdinalIgnoreCase) != true) (groups ??= []).Add(tag);
            }
            return new CapMarks(mask, groups?.ToArray());
        }

        private (int Tags, bool Each) Of(string tag)
        {
            if (_byTag.TryGetValue(tag, out var known)) return known;
            var (bits, each) = (0, false);
            for (var c = 0; c < caps.Count; c++)
                if (caps[c].Covers(tag))
                {
                    if (caps[c].Each) each = true;
                    else bits |= 1 << c;
                }
            return _byTag[tag] = (bits, each);
        }
    }

    /// <summary>What a shard's candidate counts against, as the shard marked it.</summary>
    public static CapMarks Of(ScoredItem item) => new(item.CappedTags, item.CappedGroups);

    /// <summary>
    /// The items of <paramref name="ranked"/> (best first) that <paramref name="caps"/> let into a list, in order, at
    /// most <paramref name="depth"/>; <paramref name="capped"/> gives what an item counts against (<see cref="Marks"/>).
    /// <paramref name="taken"/> counts into the caps first what items the list holds anyway count against (its pinned items).
    /// </summary>
    public static List<T> Take<T>(IEnumerable<T> ranked, Func<T, CapMarks> capped, IReadOnlyList<TagCap> caps, int depth,
        IReadOnlyList<CapMarks>? taken = null) =>
        Walk(ranked, capped, caps, depth, static (_, _) => true, taken);

    /// <summary>
    /// The first <paramref name="count"/> items of <paramref name="ranked"/> that no full cap passes over, where only the
    /// items <paramref name="counted"/> says are counted into the caps (all of them: the capped list).
    /// </summary>
    private static List<T> Walk<T>(IEnumerable<T> ranked, Func<T, CapMarks> capped, IReadOnlyList<TagCap> caps, int count,
        Func<CapMarks, IReadOnlyList<TagCap>, bool> counted, IReadOnlyList<CapMarks>? taken = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var counts = new Counts(caps, taken ?? []);
        var kept = new List<T>(Math.Min(count, 1024));
        foreach (var item in ranked)
        {
            if (kept.Count == count) break;
            var marks = capped(item);
            if (!counts.Admits(marks)) continue;
            if (counted(marks, caps)) counts.Add(marks);
            kept.Add(item);
        }
        return kept;
    }

    /// <summary>
    /// The capped list of at most <paramref name="depth"/> items from the shards' answers to a scan of
    /// <paramref name="asked"/> rows each that sent only the rows the caps may take (<see cref="ScanFilter.CapSurvivors"/>),
    /// and whether it is the list a walk over every row gives; if not, a deeper scan is needed. The shards' rows that a
    /// walk counting <paramref name="taken"/> in first passes over are among those they send, since counting more only
    /// fills the caps sooner.
    /// </summary>
    public static (ScoredItem[] List, bool Final) FromShards(IReadOnlyList<ScoredItem>[] answers, int asked, IReadOnlyList<TagCap> caps, int depth,
        IReadOnlyList<CapMarks>? taken = null)
    {
        var (reached, complete) = Reached(answers, asked);
        ScoredItem[] list = [.. Take(reached, Of, caps, depth, taken)];
        return (list, list.Length == depth || complete || asked == int.MaxValue);
    }

    /// <summary>
    /// The rows of the shards' answers to a scan of <paramref name="asked"/> rows each that sent only the rows the caps
    /// may take (<see cref="ScanFilter.CapSurvivors"/>), best first, as far down as a walk over them takes what it would
    /// over every row; and whether that is the whole ranking (no shard has more to give).
    /// </summary>
    public static (IEnumerable<ScoredItem> Reached, bool Complete) Reached(IReadOnlyList<ScoredItem>[] answers, int asked)
    {
        // Every row a shard ranked above the row its scan stopped at was either sent or certainly passed over, so the
        // merged rows are the ranking's as far down as the highest such row, and above it the walk takes what it would
        // over every row. A shard that sent fewer rows than asked without marking the end has no more to give.
        var stops = answers.Where(a => a.Count > 0 && (a.Count >= asked || a[^1].ScanEnd)).Select(a => a[^1]).ToArray();
        IEnumerable<ScoredItem> reached = SoftmaxRanking.Merge(answers, int.MaxValue);
        if (stops.Length == 0) return (reached, true);
        var stop = SoftmaxRanking.Merge([stops], 1)[0];
        return (reached.TakeWhile(c => !SoftmaxRanking.RanksBelow(c, stop)), false);
    }

    /// <summary>
    /// The items of one shard's ranking (best first) that the walk over the whole ranking could still take: an item is
    /// dropped once one of the caps it counts against is certainly full above it. A cap is certainly full once as many
    /// items above counted against it and against nothing else: the walk took each of them unless that cap was full
    /// already, and a cap stays full. What this drops the walk passes over wherever the other shards' items fall between,
    /// so the walk over the merged survivors takes what it would over every item, and a shard sends far fewer.
    /// </summary>
    public static List<T> Survivors<T>(IEnumerable<T> ranked, Func<T, CapMarks> capped, IReadOnlyList<TagCap> caps, int count) =>
        // Only the items that count against one cap alone are counted: the walk took each of those unless that cap was full.
        Walk(ranked, capped, caps, count, CountsAgainstOne);

    /// <summary>Whether an item that counts against <paramref name="marks"/> counts against one cap (or one tag of a cap of each tag) only.</summary>
    private static bool CountsAgainstOne(CapMarks marks, IReadOnlyList<TagCap> caps)
    {
        var counted = System.Numerics.BitOperations.PopCount((uint)marks.Tags);
        foreach (var tag in marks.Groups ?? [])
            for (var c = 0; c < caps.Count && counted < 2; c++)
                if (caps[c].Each && caps[c].Covers(tag)) counted++;
        return counted == 1;
    }

    /// <summary>How many items of each capped tag a list holds so far.</summary>
    public sealed class Counts(IReadOnlyList<TagCap> caps)
    {
        /// <summary>Counts that start with the items <paramref name="taken"/> counts against already in the list.</summary>
        public Counts(IReadOnlyList<TagCap> caps, IEnumerable<CapMarks> taken) : this(caps)
        {
            foreach (var marks in taken) Add(marks);
        }

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
