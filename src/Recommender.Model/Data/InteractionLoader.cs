using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>A data set together with what preprocessing removed on the way.</summary>
public sealed record LoadedInteractions(SequenceDataset Data, PreprocessingSummary Summary);

/// <summary>
/// Reads interaction logs into chronological per-user sequences over a dense item vocabulary.
/// </summary>
/// <remarks>
/// Steps, in order: parse (a malformed line is a <see cref="FormatException"/> naming file:line); drop duplicates
/// (a repeated event id, or a repeated identical user, item and timestamp); drop an event export's dismissals
/// (<see cref="EventExportFormat.DismissType"/>); the rating and event-type filters;
/// the minimum item and minimum user interaction filters (optionally to a fixed point); order each user's
/// interactions by timestamp, ties by item id, then file order; map item ids densely. Nothing else is dropped.
/// Files without timestamps (sequences, pairs) are ordered as written.
/// </remarks>
public static class InteractionLoader
{
    private readonly record struct Interaction(string User, string Item, long Time, long Ordinal, double? Rating, string? EventType, string? EventId);

    public static SequenceDataset Load(string path, InteractionFormat format, PreprocessingOptions? options = null) =>
        Read(path, format, options).Data;

    public static LoadedInteractions Read(string path, InteractionFormat format, PreprocessingOptions? options = null)
    {
        options ??= new PreprocessingOptions();
        options.Validate();
        InputFile.Require(path, "Interaction file");
        if (options.MinRating is not null && format is not (InteractionFormat.MovieLensCsv or InteractionFormat.MovieLensUData or InteractionFormat.EventExport))
            throw new ArgumentException($"MinRating needs a format with ratings; {format} has none.", nameof(options));
        if (options.EventTypes is not null && format != InteractionFormat.EventExport)
            throw new ArgumentException($"EventTypes applies to the event export only, not {format}.", nameof(options));

        var users = new List<string>();
        var interactions = new List<Interaction>();
        switch (format)
        {
            case InteractionFormat.Sequences: ParseSequences(path, users, interactions); break;
            case InteractionFormat.Pairs: ParsePairs(path, interactions); break;
            case InteractionFormat.MovieLensCsv: ParseMovieLens(path, interactions, csv: true); break;
            case InteractionFormat.MovieLensUData: ParseMovieLens(path, interactions, csv: false); break;
            case InteractionFormat.EventExport: ParseEventExport(path, interactions); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown interaction format.");
        }
        if (format != InteractionFormat.Sequences)
            users = interactions.Select(i => i.User).Distinct().Order(ExternalIdComparer.Instance).ToList();

        var summary = new PreprocessingSummary { Read = interactions.Count };
        if (options.Deduplicate)
        {
            // Event ids are unique per user, as the cluster stores them: two users may each have an event "1".
            var events = new HashSet<(string, string)>();
            var records = new HashSet<(string, string, long)>();
            long duplicateEvents = 0, duplicateRecords = 0;
            interactions = interactions.Where(i =>
            {
                // An event id says which events are one: two with different ids (a view and a cart of one item in the
                // same second) are both kept, as the cluster keeps them. Without ids, the same user, item and time is.
                if (i.EventId is not null) { if (!events.Add((i.User, i.EventId))) { duplicateEvents++; return false; } return true; }
                if (!records.Add((i.User, i.Item, i.Time))) { duplicateRecords++; return false; }
                return true;
            }).ToList();
            summary = summary with { DuplicateEvents = duplicateEvents, DuplicateRecords = duplicateRecords };
        }
        if (format == InteractionFormat.EventExport)
        {
            // A dismissal is the user turning the item down: serving never reads it as interest, and neither does training.
            var before = interactions.Count;
            interactions = interactions.Where(i => !EventExportFormat.IsDismissal(i.EventType!)).ToList();
            summary = summary with { Dismissals = before - interactions.Count };
        }
        if (options.MinRating is { } minRating)
        {
            var before = interactions.Count;
            // Events without a value (views, clicks in an event export) are not ratings and stay; nor is a purchase's
            // value, the amount paid.
            interactions = interactions.Where(i => i.Rating is not { } rating || rating >= minRating || EventExportFormat.IsPurchase(i.EventType)).ToList();
            summary = summary with { BelowMinRating = before - interactions.Count };
        }
        if (options.EventTypes is { } types)
        {
            // A type that never occurs is a misspelling, not a filter that happens to keep nothing of it.
            var present = interactions.Select(i => i.EventType!).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var absent = types.Where(t => !present.Contains(t)).Order(StringComparer.Ordinal).ToArray();
            if (absent.Length > 0)
                throw new ArgumentException($"Event type{(absent.Length > 1 ? "s" : "")} {string.Join(", ", absent.Select(t => $"'{t}'"))} " +
                    $"do{(absent.Length > 1 ? "" : "es")} not occur in the data; its event types are {string.Join(", ", present.Order(StringComparer.Ordinal))}.", nameof(options));
            var wanted = types.ToHashSet(StringComparer.OrdinalIgnoreCase);
            var before = interactions.Count;
            interactions = interactions.Where(i => wanted.Contains(i.EventType!)).ToList();
            summary = summary with { OtherEventTypes = before - interactions.Count };
        }

        var (filtered, filterSummary) = ApplyCountFilters(interactions, users, options);
        interactions = filtered;
        summary = summary with
        {
            RareItemInteractions = filterSummary.RareItemInteractions,
            ShortUserInteractions = filterSummary.ShortUserInteractions,
            RemovedItems = filterSummary.RemovedItems,
            RemovedUsers = filterSummary.RemovedUsers,
            FilterRounds = filterSummary.FilterRounds,
            Kept = interactions.Count,
        };
        if (options.MinUserInteractions > 0)
        {
            var present = interactions.Select(i => i.User).ToHashSet(StringComparer.Ordinal);
            users = users.Where(present.Contains).ToList();
        }

        var vocabulary = Vocabulary(format, interactions, options);
        var denseOf = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        for (var i = 0; i < vocabulary.Count; i++) denseOf[vocabulary[i]] = i + 1;
        // MovieLens ratings that share a second are ordered by item (the data set's convention); other files keep their
        // line order within a timestamp, which for an event export is the order the cluster stored and serves.
        var tieByItem = format is InteractionFormat.MovieLensCsv or InteractionFormat.MovieLensUData;
        var byUser = interactions.GroupBy(i => i.User, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var sequences = new List<int[]>(users.Count);
        foreach (var user in users)
        {
            if (!byUser.TryGetValue(user, out var list)) { sequences.Add([]); continue; }
            list.Sort(tieByItem ? ByTimeThenItem : ByTimeThenLine);
            sequences.Add(list.Select(i => denseOf[i.Item]).ToArray());
        }
        return new LoadedInteractions(new SequenceDataset(sequences, vocabulary, users), summary);
    }

    private static int ByTimeThenLine(Interaction a, Interaction b)
    {
        var byTime = a.Time.CompareTo(b.Time);
        return byTime != 0 ? byTime : a.Ordinal.CompareTo(b.Ordinal);
    }

    private static int ByTimeThenItem(Interaction a, Interaction b)
    {
        var byTime = a.Time.CompareTo(b.Time);
        if (byTime != 0) return byTime;
        var byItem = ExternalIdComparer.Instance.Compare(a.Item, b.Item);
        return byItem != 0 ? byItem : a.Ordinal.CompareTo(b.Ordinal);
    }

    private static (List<Interaction>, PreprocessingSummary) ApplyCountFilters(List<Interaction> interactions, List<string> users, PreprocessingOptions options)
    {
        long rareItems = 0, shortUsers = 0;
        var removedItems = new HashSet<string>(StringComparer.Ordinal);
        var removedUsers = new HashSet<string>(StringComparer.Ordinal);
        var rounds = 0;
        while (options.MinItemInteractions > 1 || options.MinUserInteractions > 0)
        {
            rounds++;
            var changed = false;
            if (options.MinItemInteractions > 1)
            {
                var counts = interactions.CountBy(i => i.Item).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                var before = interactions.Count;
                interactions = interactions.Where(i => counts[i.Item] >= options.MinItemInteractions).ToList();
                foreach (var (item, count) in counts) if (count < options.MinItemInteractions) removedItems.Add(item);
                rareItems += before - interactions.Count;
                changed |= before != interactions.Count;
            }
            if (options.MinUserInteractions > 0)
            {
                var counts = interactions.CountBy(i => i.User).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                var before = interactions.Count;
                interactions = interactions.Where(i => counts[i.User] >= options.MinUserInteractions).ToList();
                foreach (var user in users) if (counts.GetValueOrDefault(user) < options.MinUserInteractions) removedUsers.Add(user);
                shortUsers += before - interactions.Count;
                changed |= before != interactions.Count;
            }
            if (!changed || !options.IterateFilters) break;
        }
        return (interactions, new PreprocessingSummary
        {
            RareItemInteractions = rareItems,
            ShortUserInteractions = shortUsers,
            RemovedItems = removedItems.Count,
            RemovedUsers = removedUsers.Count,
            FilterRounds = rounds,
        });
    }

    private static IReadOnlyList<string> Vocabulary(InteractionFormat format, List<Interaction> interactions, PreprocessingOptions options)
    {
        if (format == InteractionFormat.Sequences && options.KeepDenseIds)
        {
            // SequenceFile has checked every id: a positive integer no larger than ModelLimits.MaxItemCount.
            var max = interactions.Count == 0 ? 0 : interactions.Max(i => int.Parse(i.Item, CultureInfo.InvariantCulture));
            return SequenceDataset.IdentityVocabulary(max);
        }
        return interactions.Select(i => i.Item).Distinct(StringComparer.Ordinal).Order(ExternalIdComparer.Instance).ToList();
    }

    /// <summary>
    /// The same reader as training (<see cref="SequenceFile.ReadSequences"/>), so both accept the same files and a
    /// token that is not a positive integer id is the same file:line error on either path. Line i is user "i".
    /// </summary>
    private static void ParseSequences(string path, List<string> users, List<Interaction> interactions)
    {
        var sequences = SequenceFile.ReadSequences(path);
        long ordinal = 0;
        for (var u = 0; u < sequences.Count; u++)
        {
            var user = (u + 1).ToString(CultureInfo.InvariantCulture);
            users.Add(user);
            var position = 0;
            foreach (var item in sequences[u])
                interactions.Add(new Interaction(user, item.ToString(CultureInfo.InvariantCulture), position++, ordinal++, null, null, null));
        }
    }

    private static void ParsePairs(string path, List<Interaction> interactions)
    {
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2) throw Malformed(path, lineNumber, $"expected 'user item', found {fields.Length} fields in '{line}'");
            interactions.Add(new Interaction(fields[0], fields[1], lineNumber, lineNumber, null, null, null));
        }
    }

    private static void ParseMovieLens(string path, List<Interaction> interactions, bool csv)
    {
        if (csv)
        {
            // ratings.csv is CSV: a quoted field ("1") is the id 1, and a quote left unbalanced is an error, not part of an id.
            foreach (var record in CsvRecordReader.Read(path))
            {
                if (record.Line == 1)
                {
                    if (record.AsHeader != MovieLensHeader) throw Malformed(path, 1, $"expected the header '{MovieLensHeader}', found '{InputFile.Excerpt(record.AsHeader)}'");
                    continue;
                }
                if (record.Blank) continue;
                AddRating(path, record.Line, record.Fields, "comma", interactions);
            }
            return;
        }
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            AddRating(path, lineNumber, line.Split('\t'), "tab", interactions);
        }
    }

    private const string MovieLensHeader = "userId,movieId,rating,timestamp";

    private static void AddRating(string path, int lineNumber, IReadOnlyList<string> fields, string separator, List<Interaction> interactions)
    {
        if (fields.Count != 4) throw Malformed(path, lineNumber, $"expected 4 {separator}-separated fields (user, item, rating, timestamp), found {fields.Count}");
        var user = fields[0].Trim();
        var item = fields[1].Trim();
        if (user.Length == 0) throw Malformed(path, lineNumber, "the user id is empty");
        if (item.Length == 0) throw Malformed(path, lineNumber, "the item id is empty");
        if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rating) || !double.IsFinite(rating))
            throw Malformed(path, lineNumber, $"rating '{fields[2]}' is not a number");
        if (!long.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var timestamp))
            throw Malformed(path, lineNumber, $"timestamp '{fields[3]}' is not an integer (Unix seconds)");
        interactions.Add(new Interaction(user, item, timestamp, lineNumber, rating, null, null));
    }

    private static void ParseEventExport(string path, List<Interaction> interactions)
    {
        foreach (var e in EventExportFormat.Read(path))
            interactions.Add(new Interaction(e.UserId, e.ItemId, e.Timestamp.UtcTicks, e.Line, e.Value, e.EventType, e.EventId));
    }

    private static FormatException Malformed(string path, int line, string problem) => new($"{path}:{line}: {problem}.");
}
