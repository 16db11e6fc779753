using System.Numerics.Tensors;
using Recommender.Abstractions;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Items;

/// <summary>
/// A shard's rows: every vector in one contiguous float[] (grown by doubling), with each row's external id, title
/// and tags, so that a scan returns presentable results without further lookups and can filter by tag as it goes;
/// hidden items keep their rows but no scan returns them, and neither does a model row no catalogue item has listed
/// (a package may know items the catalogue does not have, or not yet).
/// With cosine similarity every row is stored normalised, and a dot product is then the cosine.
/// </summary>
public sealed class ItemMatrix(int dimension, bool normalise)
{
    private float[] _vectors = new float[dimension * 16];
    private readonly List<string> _ids = [];
    private readonly List<string> _titles = [];
    private readonly Dictionary<string, int> _rows = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string[]> _rowTags = [];
    private readonly Dictionary<string, HashSet<int>> _tagRows = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlySet<string> _hiddenIds = new HashSet<string>();
    private HashSet<int> _hiddenRows = [];
    private readonly HashSet<int> _unlistedRows = [];

    // Rows of items not available yet, with the time they become so: no scan returns them before then, whatever hidden
    // set this shard has seen (a silo's copy of the set may not yet hold an item written a moment ago).
    private readonly Dictionary<int, DateTimeOffset> _heldUntil = [];

    // When each row became available (its item's availableFrom in UTC ticks, past or future; NotDated for none), for
    // freshness boosts and maximum ages: an array, read for many rows a scan.
    private long[] _availableFromTicks = [];
    private int _datedRows;
    private const long NotDated = long.MinValue;

    private Comparison<int>? _byId;

    public int Dimension { get; } = dimension;

    public bool Normalise { get; } = normalise;

    public int Count => _ids.Count;

    public bool TryGetRow(string itemId, out int row) => _rows.TryGetValue(itemId, out row);

    /// <summary>Adds a model row that no scan returns until an entry lists it (<see cref="Upsert"/>); titled by its id until then.</summary>
    public int AddUnlisted(string itemId, ReadOnlySpan<float> vector)
    {
        if (_rows.ContainsKey(itemId)) throw new ArgumentException($"Item '{itemId}' already has a row.", nameof(itemId));
        var row = Upsert(itemId, itemId, vector);
        _unlistedRows.Add(row);
        return row;
    }

    /// <summary>
    /// Unlists the row of a deleted item, as a row no catalogue item has listed: titled by its id, without tags or time,
    /// its vector set back to <paramref name="trained"/> when given (a trained row; an added one keeps its vector until
    /// the shard is loaded again, which gives it no row). False when the shard holds no listed row of the item.
    /// </summary>
    public bool Unlist(string itemId, ReadOnlySpan<float> trained = default)
    {
        if (!_rows.TryGetValue(itemId, out var row) || _unlistedRows.Contains(row)) return false;
        _unlistedRows.Add(row);
        _titles[row] = itemId;
        if (!trained.IsEmpty) Store(row, trained);
        SetTags(row, []);
        Hold(row, null);
        return true;
    }

    /// <summary>Whether the row of <paramref name="itemId"/> is one no catalogue item has listed.</summary>
    public bool IsUnlisted(string itemId) => _rows.TryGetValue(itemId, out var row) && _unlistedRows.Contains(row);

    /// <summary>Rows no catalogue item has listed.</summary>
    public int UnlistedCount => _unlistedRows.Count;

    /// <summary>
    /// Adds a row, or updates the title (and the vector, when one is given) of an existing one, which lists it; returns
    /// the row. Tags, when given, replace the row's tags. With <paramref name="availableFrom"/> in the future no scan
    /// returns the row before then (an update without it lifts that).
    /// </summary>
    public int Upsert(string itemId, string title, ReadOnlySpan<float> vector, IReadOnlyList<string>? tags = null, DateTimeOffset? availableFrom = null)
    {
        if (_rows.TryGetValue(itemId, out var row))
        {
            _unlistedRows.Remove(row);
            _titles[row] = title;
            if (!vector.IsEmpty) Store(row, vector);
            if (tags is not null) SetTags(row, tags);
            Hold(row, availableFrom);
            return row;
        }
        if (vector.IsEmpty) throw new ArgumentException($"Item '{itemId}' is new to this shard and needs a vector.", nameof(vector));
        row = _ids.Count;
        if ((row + 1) * Dimension > _vectors.Length) Array.Resize(ref _vectors, Math.Max(_vectors.Length * 2, (row + 1) * Dimension));
        _ids.Add(itemId);
        _titles.Add(title);
        _rows[itemId] = row;
        Store(row, vector);
        if (tags is not null) SetTags(row, tags);
        if (_hiddenIds.Contains(itemId)) _hiddenRows.Add(row);
        Hold(row, availableFrom);
        return row;
    }

    /// <summary>Holds the row back until <paramref name="until"/> when that is still to come, and keeps it as the row's time either way.</summary>
    private void Hold(int row, DateTimeOffset? until)
    {
        if (until > DateTimeOffset.UtcNow) _heldUntil[row] = until.Value;
        else _heldUntil.Remove(row);
        if (row >= _availableFromTicks.Length)
        {
            var grown = Math.Max(16, Math.Max(row + 1, _availableFromTicks.Length * 2));
            var old = _availableFromTicks.Length;
            Array.Resize(ref _availableFromTicks, grown);
            Array.Fill(_availableFromTicks, NotDated, old, grown - old);
        }
        var ticks = until?.UtcTicks ?? NotDated;
        _datedRows += (ticks != NotDated ? 1 : 0) - (_availableFromTicks[row] != NotDated ? 1 : 0);
        _availableFromTicks[row] = ticks;
    }

    /// <summary>Whether the row of <paramref name="itemId"/> is held back until its item becomes available.</summary>
    public bool IsHeld(string itemId) => _rows.TryGetValue(itemId, out var row) && _heldUntil.GetValueOrDefault(row) > DateTimeOffset.UtcNow;

    /// <summary>The items no scan may return (kept in the matrix, so that showing them again is instant); replaces the previous set.</summary>
    public void SetHidden(IReadOnlySet<string> itemIds)
    {
        var rows = new HashSet<int>();
        // Whichever side is smaller is walked: a few hidden items in a large shard, or a small shard and many hidden items.
        if (itemIds.Count <= _rows.Count)
        {
            foreach (var id in itemIds)
                if (_rows.TryGetValue(id, out var row)) rows.Add(row);
        }
        else
            foreach (var (id, row) in _rows)
                if (itemIds.Contains(id)) rows.Add(row);
        (_hiddenIds, _hiddenRows) = (itemIds, rows);
    }

    public bool IsHidden(string itemId) => _rows.TryGetValue(itemId, out var row) && _hiddenRows.Contains(row);

    /// <summary>Whether a row a scan may return (listed, not hidden, not held back) carries <paramref name="tag"/> (ignoring case).</summary>
    public bool ListsTag(string tag)
    {
        if (!_tagRows.TryGetValue(tag, out var rows)) return false;
        var now = DateTimeOffset.UtcNow;
        return rows.Any(row => !_hiddenRows.Contains(row) && !_unlistedRows.Contains(row) && !(_heldUntil.GetValueOrDefault(row) > now));
    }

    /// <summary>
    /// The first <paramref name="k"/> rows of items the catalogue holds whose title holds <paramref name="text"/> (ignoring
    /// case), hidden or not, in <see cref="TitleMatches.Order"/>: an operator looks up any item, a hidden one too.
    /// </summary>
    public (string ItemId, string Title, int Closeness)[] FindTitles(string text, int k)
    {
        var kept = new List<(string ItemId, string Title, int Closeness)>();
        for (var row = 0; row < Count; row++)
        {
            if (_unlistedRows.Contains(row) || TitleMatches.Closeness(_titles[row], text) is not { } closeness) continue;
            kept.Add((_ids[row], _titles[row], closeness));
        }
        kept.Sort(TitleMatches.Order);
        return [.. kept.Take(k)];
    }

    public void SetTitle(string itemId, string title)
    {
        if (_rows.TryGetValue(itemId, out var row)) _titles[row] = title;
    }

    public ReadOnlySpan<float> Vector(int row) => _vectors.AsSpan(row * Dimension, Dimension);

    public string Title(int row) => _titles[row];

    /// <summary>The best <paramref name="k"/> rows for <paramref name="query"/>, skipping the listed item ids.</summary>
    public ScoredItem[] TopK(ReadOnlySpan<float> query, int k, IEnumerable<string> exclude) => TopK(query, k, exclude, [], []);

    /// <summary>
    /// The best <paramref name="k"/> rows for <paramref name="query"/> among those tagged any of <paramref name="anyTags"/>
    /// (any row when empty) and none of <paramref name="noneTags"/>, skipping the listed item ids; with
    /// <paramref name="withVectors"/>, each with its row's vector. A row carrying the tag of one of <paramref name="boosts"/>
    /// ranks by its similarity plus that boost's offset (plus each such offset), which the result gives as its boost.
    /// Each result says what its row counts against under <paramref name="caps"/> (<see cref="TagCaps.Marks"/>); with
    /// <paramref name="capSurvivors"/>, only the rows of the best <paramref name="k"/> that the caps may still let into
    /// the list are returned (<see cref="TagCaps.Survivors"/>), and when the scan ranked k rows the k-th is returned too,
    /// marked as <see cref="ScoredItem.ScanEnd"/>, so the caller knows how far down the candidates reach. The rows of
    /// <paramref name="pinned"/> are left out of the ranking; those of them the filters let a list hold follow it, marked
    /// <see cref="ScoredItem.Pinned"/>, scored, boosted and marked alike, with their vectors too (<see cref="ScanFilter.Pins"/>).
    /// For each tag of <paramref name="slots"/> the best rows the filters let a list hold that carry the tag follow last,
    /// as many as <see cref="TagSlots.Depth"/> asks (<paramref name="deepSlots"/>), marked against the caps as the ranked rows are, marked <see cref="ScoredItem.Slot"/> (<see cref="ScanFilter.Slots"/>), with their vectors
    /// too when asked. With <paramref name="fresh"/> (a freshness boost and the softmax temperature) a row whose item has an
    /// <c>availableFrom</c> adds the temperature times the log of its freshness factor to its boost. With
    /// <paramref name="maxAge"/> only rows that became available within it are ranked (a row without a time is not), and a
    /// pinned row outside it is refused as <see cref="PinRefusal.TooOld"/>.
    /// </summary>
    public ScoredItem[] TopK(ReadOnlySpan<float> query, int k, IEnumerable<string> exclude, IReadOnlyList<string> anyTags, IReadOnlyList<string> noneTags,
        bool withVectors = false, IReadOnlyList<(string Tag, float Offset)>? boosts = null, IReadOnlyList<TagCap>? caps = null, bool capSurvivors = false,
        IReadOnlyList<string>? pinned = null, IReadOnlyList<TagSlot>? slots = null, bool deepSlots = false, (Freshness Rule, double Temperature)? fresh = null,
        TimeSpan? maxAge = null)
    {
        HashSet<int>? excluded = null;
        foreach (var id in exclude)
            if (_rows.TryGetValue(id, out var row)) (excluded ??= []).Add(row);
        // A pinned row the request excludes is told from one held back, which the exclusions below take in too.
        HashSet<int>? refusedAsExcluded = null;
        if (excluded is not null)
            foreach (var id in pinned ?? [])
                if (_rows.TryGetValue(id, out var row) && excluded.Contains(row)) (refusedAsExcluded ??= []).Add(row);
        if (_heldUntil.Count > 0)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (row, until) in _heldUntil.ToArray())
                if (until > now) (excluded ??= []).Add(row);
                else _heldUntil.Remove(row);
        }
        // One tag is a set the scan walks or tests directly. Several tags holding few rows between them are joined into
        // one set for the scan to walk; holding many, their own sets are asked as rows enter the heap.
        IReadOnlySet<int>? allowed = null;
        Func<int, bool>? admits = null;
        var anyTagged = true;
        if (anyTags.Count > 0)
        {
            var tagged = RowsTagged(anyTags);
            anyTagged = tagged.Length > 0;
            if (tagged.Length == 1) allowed = tagged[0];
            else if ((long)tagged.Sum(rows => rows.Count) * 8 <= Count) allowed = new HashSet<int>(tagged.SelectMany(rows => rows));
            else admits = row => Array.Exists(tagged, rows => rows.Contains(row));
        }
        if (noneTags.Count > 0 && RowsTagged(noneTags) is { Length: > 0 } barred)
        {
            var anyOf = admits;
            admits = row => (anyOf is null || anyOf(row)) && !Array.Exists(barred, rows => rows.Contains(row));
        }
        var (taggedRows, tagAdmits) = (allowed, admits);
        Func<int, bool>? recent = null;
        var noneRecent = false;
        if (maxAge is { } age) (allowed, admits, recent, noneRecent) = WithinAge(age, allowed, admits);
        // Pinned rows a list may hold: what the scan would return but for its depth; the others with the reason. All of
        // them leave the ranking.
        List<int>? pinnedRows = null;
        List<(int Row, PinRefusal Reason)>? refusedRows = null;
        foreach (var id in pinned ?? [])
            if (_rows.TryGetValue(id, out var row))
            {
                PinRefusal? refusal = _unlistedRows.Contains(row) ? PinRefusal.Unknown
                    : _hiddenRows.Contains(row) || _heldUntil.ContainsKey(row) ? PinRefusal.Unavailable
                    : refusedAsExcluded?.Contains(row) == true ? PinRefusal.Excluded
                    : !anyTagged || taggedRows?.Contains(row) == false || tagAdmits?.Invoke(row) == false ? PinRefusal.OutsideTags
                    : recent?.Invoke(row) == false ? PinRefusal.TooOld
                    : null;
                if (refusal is { } reason) (refusedRows ??= []).Add((row, reason));
                else (pinnedRows ??= []).Add(row);
                (excluded ??= []).Add(row);
            }
        if (!anyTagged || noneRecent || allowed is { Count: 0 }) return [.. (refusedRows ?? []).Select(Refused)];
        var boosted = Boosted(boosts);
        var (boost, mostAdded) = Booster(boosted, fresh);
        // Equal scores rank by item id, as the merge across shards does, so a shard's cut agrees with the global order.
        var best = TopKScanner.Scan(_vectors, Dimension, Count, query, k, excluded, allowed, _byId ??= (a, b) => string.CompareOrdinal(_ids[a], _ids[b]),
            _hiddenRows.Count == 0 ? null : _hiddenRows, _unlistedRows.Count == 0 ? null : _unlistedRows, admits,
            boost, mostAdded);
        var marker = caps is { Count: > 0 } ? new TagCaps.Marker(caps) : null;
        // Plain scans, the most of them, mark nothing.
        var marks = marker is null ? null : new CapMarks[best.Length];
        if (marker is not null && marks is not null)
            for (var i = 0; i < best.Length; i++) marks[i] = marker.Marks(_rowTags.GetValueOrDefault(best[i].Row));
        var scanEnd = -1;
        if (marks is not null && capSurvivors && best.Length > 0)
        {
            // The rows the caps certainly pass over are not sent; the last row ranked is, to say how far the scan went.
            var kept = TagCaps.Survivors(Enumerable.Range(0, best.Length), i => marks[i], caps!, best.Length);
            if (best.Length == k && kept[^1] != k - 1) kept.Add(k - 1);
            if (best.Length == k) scanEnd = kept.Count - 1;
            (best, marks) = ([.. kept.Select(i => best[i])], [.. kept.Select(i => marks[i])]);
        }
        var result = new ScoredItem[best.Length + (pinnedRows?.Count ?? 0) + (refusedRows?.Count ?? 0)];
        for (var i = 0; i < best.Length; i++)
        {
            var (similarity, added) = Scored(best[i], query, boost);
            result[i] = new ScoredItem(_ids[best[i].Row], _titles[best[i].Row], similarity,
                withVectors ? VectorBytes.FromFloats(Vector(best[i].Row)) : null, added, marks?[i].Tags ?? 0, marks?[i].Groups, i == scanEnd);
        }
        for (var i = 0; i < (pinnedRows?.Count ?? 0); i++)
        {
            var row = pinnedRows![i];
            var tags = _rowTags.GetValueOrDefault(row) ?? [];
            var pinMarks = marker?.Marks(tags) ?? default;
            result[best.Length + i] = new ScoredItem(_ids[row], _titles[row], TensorPrimitives.Dot(Vector(row), query), withVectors ? VectorBytes.FromFloats(Vector(row)) : null,
                boost?.Invoke(row) ?? 0f, pinMarks.Tags, pinMarks.Groups, Pinned: true, Tags: tags, AvailableFrom: AvailableFrom(row));
        }
        for (var i = 0; i < (refusedRows?.Count ?? 0); i++)
            result[best.Length + (pinnedRows?.Count ?? 0) + i] = Refused(refusedRows![i]);
        if (slots is not { Count: > 0 }) return result;
        // Each slot's tag is ranked on its own within the list's filters, deep enough for its deepest slot: a slot takes
        // the best of them not shown above it, and at most one item above each place is shown.
        var candidates = new List<ScoredItem>(result);
        var listed = allowed;
        var listAdmits = admits;
        foreach (var group in slots.GroupBy(s => s.Tag, StringComparer.OrdinalIgnoreCase))
        {
            if (RowsTagged([group.Key]) is not [var tagRows]) continue;
            var rows = TopKScanner.Scan(_vectors, Dimension, Count, query, TagSlots.Depth(group, k, deepSlots), excluded, tagRows, _byId,
                _hiddenRows.Count == 0 ? null : _hiddenRows, _unlistedRows.Count == 0 ? null : _unlistedRows,
                listed is null && listAdmits is null ? null : row => listed?.Contains(row) != false && listAdmits?.Invoke(row) != false,
                boost, mostAdded);
            foreach (var row in rows)
            {
                var (similarity, added) = Scored(row, query, boost);
                var slotMarks = marker?.Marks(_rowTags.GetValueOrDefault(row.Row)) ?? default;
                candidates.Add(new ScoredItem(_ids[row.Row], _titles[row.Row], similarity, withVectors ? VectorBytes.FromFloats(Vector(row.Row)) : null, added,
                    slotMarks.Tags, slotMarks.Groups, Slot: group.Key));
            }
        }
        return [.. candidates];
    }

    /// <summary>
    /// A scanned row's own similarity and what the boosts added to it: a boosted row's similarity is its dot product
    /// again (the same sum as the scan's), not the score less the boost.
    /// </summary>
    private (float Similarity, float Added) Scored(RowScore scored, ReadOnlySpan<float> query, Func<int, float>? boost)
    {
        var added = boost?.Invoke(scored.Row) ?? 0f;
        return (added == 0 ? scored.Score : TensorPrimitives.Dot(Vector(scored.Row), query), added);
    }

    private ScoredItem Refused((int Row, PinRefusal Reason) refused) =>
        new(_ids[refused.Row], _titles[refused.Row], 0f, Pinned: true, Refusal: refused.Reason);

    /// <summary>
    /// The scan's rows narrowed to those that became available within <paramref name="age"/>, which are like a tag's: a
    /// set walked when few (on their own, or the recent rows of a small tag's set), otherwise a test as rows enter the
    /// heap; with the test itself (for pins) and whether no row is recent.
    /// </summary>
    private (IReadOnlySet<int>? Allowed, Func<int, bool>? Admits, Func<int, bool> Recent, bool NoneRecent) WithinAge(TimeSpan age, IReadOnlySet<int>? allowed,
        Func<int, bool>? admits)
    {
        var (since, times) = ((DateTimeOffset.UtcNow - age).UtcTicks, _availableFromTicks);
        var rows = Math.Min(Count, times.Length);
        bool Recent(int row) => row < rows && times[row] >= since;
        var recentCount = 0;
        for (var row = 0; row < rows; row++)
            if (times[row] >= since) recentCount++;
        if (allowed is not null && (long)allowed.Count * 8 <= Count) return (new HashSet<int>(allowed.Where(Recent)), admits, Recent, recentCount == 0);
        if ((long)recentCount * 8 <= Count)
        {
            var recentRows = new HashSet<int>(recentCount);
            for (var row = 0; row < rows; row++)
                if (times[row] >= since && allowed?.Contains(row) != false) recentRows.Add(row);
            return (recentRows, admits, Recent, recentCount == 0);
        }
        return (allowed, admits is null ? Recent : row => admits(row) && Recent(row), Recent, false);
    }

    /// <summary>
    /// The newest <paramref name="k"/> rows by their items' availableFrom (ties by id) that a scan may return (listed, not
    /// hidden, available now) and the filters let a list hold: none of <paramref name="exclude"/>, tagged any of
    /// <paramref name="anyTags"/> (any row when empty) and none of <paramref name="noneTags"/>, within <paramref name="maxAge"/>;
    /// each with its time. Undated rows are not listed: they have no place in an order by time. With
    /// <paramref name="slots"/>, each slot tag's newest rows the list may hold follow, as many as <see cref="TagSlots.Depth"/>
    /// asks (<paramref name="deepSlots"/>), marked <see cref="ScoredItem.Slot"/> and against the caps.
    /// </summary>
    public ScoredItem[] Latest(int k, IEnumerable<string> exclude, IReadOnlyList<string> anyTags, IReadOnlyList<string> noneTags, TimeSpan? maxAge = null,
        IReadOnlyList<TagCap>? caps = null, bool capSurvivors = false, IReadOnlyList<TagSlot>? slots = null, bool deepSlots = false)
    {
        if (_datedRows == 0 || k <= 0) return [];
        var now = DateTimeOffset.UtcNow;
        var (from, until) = (maxAge is { } age ? (now - age).UtcTicks : long.MinValue + 1, now.UtcTicks);
        var excluded = exclude.Select(id => _rows.TryGetValue(id, out var row) ? row : -1).Where(row => row >= 0).ToHashSet();
        var anyOf = RowsTagged(anyTags);
        var noneOf = noneTags.Count == 0 ? [] : RowsTagged(noneTags);
        if (anyTags.Count > 0 && anyOf.Length == 0) return [];
        bool Listable(int row) => !_hiddenRows.Contains(row) && !_unlistedRows.Contains(row) && !excluded.Contains(row)
            && (anyOf.Length == 0 || Array.Exists(anyOf, tagged => tagged.Contains(row))) && !Array.Exists(noneOf, tagged => tagged.Contains(row));
        // Under caps each row says what it counts against, for the walk down the merged list.
        var marker = caps is { Count: > 0 } ? new TagCaps.Marker(caps) : null;
        ScoredItem Item(int row, string? slot = null)
        {
            var marks = marker?.Marks(_rowTags.GetValueOrDefault(row)) ?? default;
            return new ScoredItem(_ids[row], _titles[row], 0f, CappedTags: marks.Tags, CappedGroups: marks.Groups, AvailableFrom: AvailableFrom(row), Slot: slot);
        }
        var newest = Newest(k, from, until, Listable).Select(row => Item(row)).ToArray();
        var slotRows = new List<ScoredItem>();
        foreach (var group in (slots ?? []).GroupBy(s => s.Tag, StringComparer.OrdinalIgnoreCase))
        {
            if (RowsTagged([group.Key]) is not [var tagRows]) continue;
            slotRows.AddRange(Newest(TagSlots.Depth(group, k, deepSlots), from, until, row => tagRows.Contains(row) && Listable(row)).Select(row => Item(row, group.Key)));
        }
        if (!capSurvivors || marker is null || newest.Length == 0) return [.. newest, .. slotRows];
        // Only the rows the walk could still take are sent (as a capped scan sends them), and the oldest read, marked, to
        // say how far the read went.
        var survivors = TagCaps.Survivors(Enumerable.Range(0, newest.Length), i => TagCaps.Of(newest[i]), caps!, newest.Length);
        if (newest.Length < k) return [.. survivors.Select(i => newest[i]), .. slotRows];
        if (survivors[^1] != k - 1) survivors.Add(k - 1);
        var sent = survivors.Select(i => newest[i]).ToArray();
        sent[^1] = sent[^1] with { ScanEnd = true };
        return [.. sent, .. slotRows];
    }

    /// <summary>The newest <paramref name="k"/> dated rows within [from, until] that <paramref name="listable"/> admits, newest first (ties by id).</summary>
    private int[] Newest(int k, long from, long until, Func<int, bool> listable)
    {
        // Oldest first at the head, so the newest k stay; among equal times the larger id goes first, as it ranks below.
        var kept = new PriorityQueue<int, (long Ticks, string Id)>(Math.Min(k, 1024) + 1,
            Comparer<(long Ticks, string Id)>.Create((a, b) => a.Ticks != b.Ticks ? a.Ticks.CompareTo(b.Ticks) : string.CompareOrdinal(b.Id, a.Id)));
        var rows = Math.Min(Count, _availableFromTicks.Length);
        // Once k rows are kept, a row older than the oldest of them is passed over before any set is asked about it.
        var oldestKept = long.MinValue;
        for (var row = 0; row < rows; row++)
        {
            var ticks = _availableFromTicks[row];
            if (ticks == NotDated || ticks < from || ticks > until || ticks < oldestKept || !listable(row)) continue;
            var key = (ticks, _ids[row]);
            if (kept.Count < k) kept.Enqueue(row, key);
            else if (kept.TryPeek(out _, out var oldest) && kept.Comparer.Compare(key, oldest) > 0) kept.DequeueEnqueue(row, key);
            if (kept.Count == k && kept.TryPeek(out _, out var newOldest)) oldestKept = newOldest.Ticks;
        }
        var newest = new int[kept.Count];
        for (var i = newest.Length - 1; i >= 0; i--) newest[i] = kept.Dequeue();
        return newest;
    }

    /// <summary>When the row's item became available, as it was written (null for none).</summary>
    private DateTimeOffset? AvailableFrom(int row) =>
        row < _availableFromTicks.Length && _availableFromTicks[row] != NotDated ? new DateTimeOffset(_availableFromTicks[row], TimeSpan.Zero) : null;

    /// <summary>
    /// What the boosts add to a row's similarity (null when nothing is added), and the most they add to any row, which
    /// bounds the scan: the boosted tags' offsets, and the freshness boost's for a row with an <c>availableFrom</c>.
    /// </summary>
    private (Func<int, float>? Boost, float MostAdded) Booster((HashSet<int> Rows, float Offset)[] boosted, (Freshness Rule, double Temperature)? fresh)
    {
        var mostAdded = boosted.Sum(b => Math.Max(0f, b.Offset));
        var dated = fresh is not null && _datedRows > 0;
        if (boosted.Length == 0 && !dated) return (null, mostAdded);
        var now = DateTimeOffset.UtcNow;
        if (dated) mostAdded += (float)(fresh!.Value.Temperature * fresh.Value.Rule.MaxLogFactor);
        return (row =>
        {
            var sum = 0f;
            foreach (var (rows, offset) in boosted)
                if (rows.Contains(row)) sum += offset;
            if (dated && AvailableFrom(row) is { } since) sum += (float)(fresh!.Value.Temperature * fresh.Value.Rule.LogFactor(since, now));
            return sum;
        }, mostAdded);
    }

    /// <summary>The row sets of the boosted tags some row carries, each with its offset (a tag named twice adds both).</summary>
    private (HashSet<int> Rows, float Offset)[] Boosted(IReadOnlyList<(string Tag, float Offset)>? boosts) =>
        boosts is null ? [] : [.. boosts
            .Where(b => b.Offset != 0)
            .Select(b => (Rows: _tagRows.GetValueOrDefault(b.Tag), b.Offset))
            .Where(b => b.Rows is { Count: > 0 })
            .Select(b => (b.Rows!, b.Offset))];

    /// <summary>The row sets of those of <paramref name="tags"/> that some row carries.</summary>
    private HashSet<int>[] RowsTagged(IReadOnlyList<string> tags) =>
        [.. tags.Select(t => _tagRows.GetValueOrDefault(t)).OfType<HashSet<int>>().Where(rows => rows.Count > 0).Distinct()];

    private void SetTags(int row, IReadOnlyList<string> tags)
    {
        if (_rowTags.TryGetValue(row, out var old))
            foreach (var t in old)
                _tagRows[t].Remove(row);
        var distinct = tags.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        _rowTags[row] = distinct;
        foreach (var t in distinct)
        {
            if (!_tagRows.TryGetValue(t, out var rows)) _tagRows[t] = rows = [];
            rows.Add(row);
        }
    }

    private void Store(int row, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"Vector has {vector.Length} values; this model's dimension is {Dimension}.", nameof(vector));
        var target = _vectors.AsSpan(row * Dimension, Dimension);
        vector.CopyTo(target);
        if (!Normalise) return;
        var norm = TensorPrimitives.Norm(target);
        if (norm > 0) TensorPrimitives.Divide(target, norm, target);
    }
}
