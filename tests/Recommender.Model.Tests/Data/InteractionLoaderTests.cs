using Recommender.Model.Data;

namespace Recommender.Model.Tests.Data;

public sealed class InteractionLoaderTests : IDisposable
{
    private readonly string _directory = SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string[] External(SequenceDataset data, int user) => data.Sequences[user].Select(i => data.ItemIds[i - 1]).ToArray();

    [Fact]
    public void Dense_sequences_keep_their_ids_and_blank_lines()
    {
        var path = Write("seq.txt", "3 1 2\n\n5 5 1\n");
        var data = InteractionLoader.Load(path, InteractionFormat.Sequences);
        Assert.Equal(5, data.ItemCount);
        Assert.Equal(3, data.UserCount);
        Assert.Equal([3, 1, 2], data.Sequences[0]);
        Assert.Empty(data.Sequences[1]);
        Assert.Equal([5, 5, 1], data.Sequences[2]);
    }

    [Fact]
    public void Sequences_without_kept_ids_are_remapped_in_numeric_order()
    {
        var path = Write("seq.txt", "20 7 300\n300 300\n");
        var data = InteractionLoader.Load(path, InteractionFormat.Sequences, new PreprocessingOptions { KeepDenseIds = false });
        Assert.Equal(["7", "20", "300"], data.ItemIds);
        Assert.Equal([2, 1, 3], data.Sequences[0]);
        Assert.Equal(["300", "300"], External(data, 1));
        Assert.Equal(["1", "2"], data.UserIds);
    }

    [Theory]
    [InlineData("1 2 3\n2 x 1\n", 2, "'x'")]
    [InlineData("1 2 3\n\n0 1\n", 3, "'0'")]
    [InlineData("1 -2\n", 1, "'-2'")]
    [InlineData("1 2.5\n", 1, "'2.5'")]
    public void Loading_and_training_reject_the_same_non_positive_integer_ids_with_file_and_line(string content, int line, string token)
    {
        var path = Write("seq.txt", content);
        var expected = $"{path}:{line}: {token} is not a positive integer item id.";
        Assert.Equal(expected, Assert.Throws<FormatException>(() => SequenceFile.LoadDense(path)).Message);
        Assert.Equal(expected, Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.Sequences)).Message);
        Assert.Equal(expected, Assert.Throws<FormatException>(() =>
            InteractionLoader.Load(path, InteractionFormat.Sequences, new PreprocessingOptions { KeepDenseIds = false })).Message);
    }

    [Fact]
    public void Pairs_keep_file_order_per_user()
    {
        var path = Write("pairs.txt", "u2 10\nu1 7\nu2 3\nu1 7\n\nu1 2\n");
        var loaded = InteractionLoader.Read(path, InteractionFormat.Pairs);
        var data = loaded.Data;
        Assert.Equal(["u1", "u2"], data.UserIds);
        Assert.Equal(["7", "7", "2"], External(data, 0));
        Assert.Equal(["10", "3"], External(data, 1));
        Assert.Equal(["2", "3", "7", "10"], data.ItemIds);
        Assert.Equal(0, loaded.Summary.DuplicateRecords); // a repeat at another position is a real re-consumption
    }

    [Fact]
    public void MovieLens_csv_is_ordered_by_timestamp_with_ties_by_item_and_deduplicated()
    {
        var path = Write("ratings.csv", "userId,movieId,rating,timestamp\n1,30,4.0,200\n1,20,3.5,100\n1,10,5.0,200\n2,20,1.0,50\n1,30,4.0,200\n");
        var loaded = InteractionLoader.Read(path, InteractionFormat.MovieLensCsv);
        Assert.Equal(["20", "10", "30"], External(loaded.Data, 0));
        Assert.Equal(["20"], External(loaded.Data, 1));
        Assert.Equal(5, loaded.Summary.Read);
        Assert.Equal(1, loaded.Summary.DuplicateRecords);
        Assert.Equal(4, loaded.Summary.Kept);
    }

    [Fact]
    public void MovieLens_csv_fields_are_unquoted_as_rfc_4180_csv()
    {
        var path = Write("ratings.csv",
            "userId,movieId,rating,timestamp\n\"1\",\"1\",4.0,964982703\n\"1\",\"the \"\"2\"\", film\",\"3.5\",964982704\r\n2,1,5.0,964982705\n");
        var loaded = InteractionLoader.Read(path, InteractionFormat.MovieLensCsv);
        Assert.Equal(["1", "2"], loaded.Data.UserIds);
        Assert.Equal(["1", "the \"2\", film"], External(loaded.Data, 0));
        Assert.Equal(["1"], External(loaded.Data, 1));
        Assert.Equal(["1", "the \"2\", film"], loaded.Data.ItemIds);
    }

    [Theory]
    [InlineData("\"1\",\"1,4.0,964982703\n2,1,5.0,964982705\n", 3, "never closed")]
    [InlineData("1,2,4.0,1\n1,1\"x\",4.0,964982703\n", 4, "inside an unquoted field")]
    [InlineData("1,2,4.0,1\n\"1\"x,1,4.0,964982703\n", 4, "after the closing double quote")]
    public void An_unbalanced_or_misplaced_quote_in_movielens_csv_names_file_and_line(string rows, int line, string problem)
    {
        var path = Write("ratings.csv", "userId,movieId,rating,timestamp\n\n" + rows);
        var error = Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.MovieLensCsv));
        Assert.StartsWith($"{path}:{line}: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Rating_threshold_and_count_filters_iterate_to_a_fixed_point()
    {
        // Item 9 is rare; removing it leaves user 3 with one item, whose removal makes item 8 rare in turn.
        var lines = new[] { "1\t1\t5\t1", "1\t2\t5\t2", "2\t1\t5\t1", "2\t2\t5\t2", "3\t9\t5\t1", "3\t8\t5\t2", "4\t8\t5\t1", "4\t1\t5\t2", "4\t2\t1\t3" };
        var path = Write("u.data", string.Join('\n', lines) + "\n");
        var options = new PreprocessingOptions { MinRating = 3, MinItemInteractions = 2, MinUserInteractions = 2 };
        var loaded = InteractionLoader.Read(path, InteractionFormat.MovieLensUData, options);
        Assert.Equal(1, loaded.Summary.BelowMinRating);
        Assert.Equal(["1", "2"], loaded.Data.ItemIds);
        Assert.Equal(["1", "2"], loaded.Data.UserIds);
        Assert.Equal(2, loaded.Summary.RemovedItems);
        Assert.Equal(2, loaded.Summary.RemovedUsers);
        Assert.Equal(4, loaded.Summary.Kept);
        Assert.Equal(loaded.Summary.Read, loaded.Summary.Kept + loaded.Summary.BelowMinRating + loaded.Summary.RareItemInteractions + loaded.Summary.ShortUserInteractions);

        var once = InteractionLoader.Read(path, InteractionFormat.MovieLensUData, options with { IterateFilters = false });
        Assert.Contains("8", once.Data.ItemIds);
    }

    /// <summary>
    /// Events the cluster stored with one timestamp (a batch sent without timestamps) keep the export's line order,
    /// which is the order serving reads; a view and a cart of one item at that time are two events, both kept.
    /// </summary>
    [Fact]
    public void Event_export_keeps_line_order_within_a_timestamp_and_events_with_distinct_ids()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var writer = new StringWriter();
        EventExportFormat.Write(writer,
        [
            ("carol", "SKU-9", "view", t0, "a1"),
            ("carol", "SKU-3", "view", t0, "a2"),
            ("carol", "SKU-7", "view", t0, "a3"),
            ("carol", "SKU-7", "cart", t0, "a4"),
            ("carol", "SKU-1", "view", t0.AddSeconds(-1), "a5"),
        ]);
        var loaded = InteractionLoader.Read(Write("ties.csv", writer.ToString()), InteractionFormat.EventExport);
        Assert.Equal(["SKU-1", "SKU-9", "SKU-3", "SKU-7", "SKU-7"], External(loaded.Data, 0));
        Assert.Equal((0L, 0L), (loaded.Summary.DuplicateEvents, loaded.Summary.DuplicateRecords));

        // MovieLens keeps its convention: ratings within one second in item order.
        var ratings = Write("ties-ratings.csv", "userId,movieId,rating,timestamp\n1,30,4,100\n1,10,4,100\n1,20,4,99\n");
        Assert.Equal(["20", "10", "30"], External(InteractionLoader.Read(ratings, InteractionFormat.MovieLensCsv, new PreprocessingOptions { MinUserInteractions = 1, MinItemInteractions = 1 }).Data, 0));
    }

    [Fact]
    public void Event_export_round_trips_and_drops_redelivered_events()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var writer = new StringWriter();
        EventExportFormat.Write(writer,
        [
            ("alice", "item,with comma", "view", t0.AddMinutes(2), "e1"),
            ("alice", "plain", "click", t0, "e2"),
            ("alice", "plain", "click", t0, "e2"),
            ("bob", "say \"hi\"", "purchase", t0, "e3"),
            // Event ids are per user: bob's "e1" is not alice's.
            ("bob", "plain", "view", t0.AddMinutes(1), "e1"),
        ]);
        var path = Write("events.csv", writer.ToString());
        Assert.StartsWith(EventExportFormat.Header + Environment.NewLine, File.ReadAllText(path));
        var loaded = InteractionLoader.Read(path, InteractionFormat.EventExport);
        Assert.Equal(["plain", "item,with comma"], External(loaded.Data, 0));
        Assert.Equal(["say \"hi\"", "plain"], External(loaded.Data, 1));
        Assert.Equal(1, loaded.Summary.DuplicateEvents);

        var purchases = InteractionLoader.Read(path, InteractionFormat.EventExport, new PreprocessingOptions { EventTypes = new HashSet<string> { "purchase" }, MinUserInteractions = 1 });
        Assert.Equal(["bob"], purchases.Data.UserIds);
        Assert.Equal(3, purchases.Summary.OtherEventTypes);

        // Types match ignoring case, as the API takes them; one that never occurs is an error, not an empty filter.
        var capitalised = InteractionLoader.Read(path, InteractionFormat.EventExport, new PreprocessingOptions { EventTypes = new HashSet<string> { "Purchase" }, MinUserInteractions = 1 });
        Assert.Equal(["bob"], capitalised.Data.UserIds);
        var misspelt = Assert.Throws<ArgumentException>(() => InteractionLoader.Read(path, InteractionFormat.EventExport,
            new PreprocessingOptions { EventTypes = new HashSet<string> { "purchase", "purchse" }, MinUserInteractions = 1 }));
        Assert.StartsWith("Event type 'purchse' does not occur in the data; its event types are click, purchase, view.", misspelt.Message);
    }

    [Fact]
    public void An_export_s_dismissals_are_not_interactions_and_cannot_be_kept()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var writer = new StringWriter();
        EventExportFormat.Write(writer,
        [
            ("alice", "a", "view", t0, "e1"),
            ("alice", "b", "dismiss", t0.AddMinutes(1), "e2"),
            ("alice", "c", "purchase", t0.AddMinutes(2), "e3"),
            ("bob", "b", "Dismiss", t0, "e1"),
            ("bob", "b", "Dismiss", t0, "e1"),
        ]);
        var path = Write("dismissals.csv", writer.ToString());
        var loaded = InteractionLoader.Read(path, InteractionFormat.EventExport);
        Assert.Equal(["a", "c"], External(loaded.Data, 0));
        // Bob turned down the one item he touched: he stays a user without interactions, and b is no item of the vocabulary.
        Assert.Empty(External(loaded.Data, 1));
        Assert.Equal(["a", "c"], loaded.Data.ItemIds);
        Assert.Equal(2, loaded.Summary.Dismissals);
        Assert.Equal(1, loaded.Summary.DuplicateEvents);
        Assert.Contains("dismissals 2", loaded.Summary.ToString());

        var kept = Assert.Throws<ArgumentException>(() => InteractionLoader.Read(path, InteractionFormat.EventExport,
            new PreprocessingOptions { EventTypes = new HashSet<string> { "view", "DISMISS" } }));
        Assert.Contains("'DISMISS': dismissals are users turning items down", kept.Message);
    }

    [Fact]
    public void Event_export_values_round_trip_filter_by_min_rating_and_exports_without_the_value_column_still_read()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var writer = new StringWriter();
        EventExportFormat.Write(writer,
        [
            ("alice", "a", "rating", t0, "e1", (double?)4.5),
            ("alice", "b", "rating", t0.AddMinutes(1), "e2", 2),
            ("alice", "c", "view", t0.AddMinutes(2), "e3", null),
            ("bob", "a", "rating", t0, "e4", 0.1 + 0.2),
            ("bob", "d", "Purchase", t0.AddMinutes(1), "e5", 1.5),
        ]);
        var text = writer.ToString();
        Assert.Contains("\nalice,a,rating,2024-05-01T12:00:00.0000000Z,e1,4.5\n", text.ReplaceLineEndings("\n"));
        Assert.Contains(",e3,\n", text.ReplaceLineEndings("\n"));
        // Doubles are written so that they read back exactly.
        Assert.Contains($",e4,{(0.1 + 0.2).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", text);
        var path = Write("values.csv", text);

        var all = InteractionLoader.Read(path, InteractionFormat.EventExport, new PreprocessingOptions { MinUserInteractions = 1 });
        Assert.Equal(["a", "b", "c"], External(all.Data, 0));
        // Ratings below 4 go; the view, which has no value, stays, and so does the purchase, whose value is the amount paid.
        var liked = InteractionLoader.Read(path, InteractionFormat.EventExport, new PreprocessingOptions { MinRating = 4, MinUserInteractions = 1 });
        Assert.Equal(["a", "c"], External(liked.Data, 0));
        Assert.Equal(["d"], External(liked.Data, 1));
        Assert.Equal(2, liked.Summary.BelowMinRating);

        var old = Write("old.csv", EventExportFormat.HeaderWithoutValue + "\nu,i,view,2024-05-01T12:00:00Z,e1\nu,j,view,2024-05-01T12:01:00Z,e2\n");
        Assert.Equal(["i", "j"], External(InteractionLoader.Read(old, InteractionFormat.EventExport).Data, 0));

        var bad = Write("bad-value.csv", EventExportFormat.Header + "\nu,i,rating,2024-05-01T12:00:00Z,e1,five\n");
        Assert.Equal($"{bad}:2: value 'five' is not a number.", Assert.Throws<FormatException>(() => InteractionLoader.Read(bad, InteractionFormat.EventExport)).Message);
        var short5 = Write("short.csv", EventExportFormat.Header + "\nu,i,view,2024-05-01T12:00:00Z,e1\n");
        Assert.Contains("expected 6 fields", Assert.Throws<FormatException>(() => InteractionLoader.Read(short5, InteractionFormat.EventExport)).Message);
    }

    [Fact]
    public void Event_export_fields_with_line_breaks_round_trip_and_errors_name_the_record_first_line()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);
        var writer = new StringWriter();
        EventExportFormat.Write(writer,
        [
            ("alice", "line\nbreak", "view", t0, "e1"),
            ("alice", "crlf\r\n\"quoted\", and comma", "view", t0.AddMinutes(1), "e2"),
            ("bob\rcarriage", "plain", "click", t0, "e3"),
            ("carol", "\n", "view", t0, "e4\n"),
        ]);
        var path = Write("events.csv", writer.ToString());
        var loaded = InteractionLoader.Read(path, InteractionFormat.EventExport);
        Assert.Equal(["alice", "bob\rcarriage", "carol"], loaded.Data.UserIds);
        Assert.Equal(["line\nbreak", "crlf\r\n\"quoted\", and comma"], External(loaded.Data, 0));
        Assert.Equal(["plain"], External(loaded.Data, 1));
        Assert.Equal(["\n"], External(loaded.Data, 2));
        Assert.Equal(4, loaded.Summary.Read);

        // The records start on lines 2, 4, 6 and 8 (each line break inside quotes, CRLF and lone CR alike, is one line;
        // the last record holds two), so an appended bad fifth record starts on line 11.
        File.AppendAllText(path, "dave,x,view,not a time,e5,\n");
        var error = Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.EventExport));
        Assert.StartsWith($"{path}:11: timestamp 'not a time'", error.Message);

        var unclosed = Write("unclosed.csv", EventExportFormat.HeaderWithoutValue + "\nu,i,view,2024-05-01T12:00:00Z,e1\n\"u\nv,i,view,2024-05-01T12:00:00Z,e2\n");
        Assert.StartsWith($"{unclosed}:3: unbalanced double quotes", Assert.Throws<FormatException>(() => InteractionLoader.Load(unclosed, InteractionFormat.EventExport)).Message);
    }

    [Theory]
    [InlineData(InteractionFormat.MovieLensCsv, "userId,movieId,rating,timestamp\n1,2,4.0,100\n1,3,four,100\n", 3, "rating 'four'")]
    [InlineData(InteractionFormat.MovieLensCsv, "user,movie,rating,time\n", 1, "header")]
    [InlineData(InteractionFormat.MovieLensUData, "1\t2\t4\t100\n1\t2\t4\n", 2, "4 tab-separated fields")]
    [InlineData(InteractionFormat.MovieLensUData, "1\t2\t4\t1.5e9x\n", 1, "timestamp '1.5e9x'")]
    [InlineData(InteractionFormat.Pairs, "u1 1\nu1 2 3\n", 2, "'user item'")]
    [InlineData(InteractionFormat.EventExport, EventExportFormat.HeaderWithoutValue + "\nu,i,view,2024-05-01T12:00:00Z,e1\nu,i,view,2024-05-01 noon,e2\n", 3, "ISO-8601")]
    [InlineData(InteractionFormat.EventExport, EventExportFormat.HeaderWithoutValue + "\nu,i,view,2024-05-01T12:00:00+02:00,e1\n", 2, "UTC")]
    [InlineData(InteractionFormat.EventExport, EventExportFormat.HeaderWithoutValue + "\nu,\"i,view,2024-05-01T12:00:00Z,e1\n", 2, "quotes")]
    [InlineData(InteractionFormat.EventExport, EventExportFormat.HeaderWithoutValue + "\nu,,view,2024-05-01T12:00:00Z,e1\n", 2, "item_id is empty")]
    public void Malformed_line_is_reported_with_file_and_line(InteractionFormat format, string content, int line, string problem)
    {
        var path = Write("bad.txt", content);
        var error = Assert.Throws<FormatException>(() => InteractionLoader.Load(path, format));
        Assert.Contains($"{path}:{line}:", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_file_of_another_format_is_named_by_the_start_of_its_first_line()
    {
        // A sequence file read as movielens-csv: its first line (thousands of ids) is quoted only in part.
        var line = string.Join(' ', Enumerable.Range(1, 2000));
        var path = Write("sequences.txt", line + "\n");
        var message = Assert.Throws<FormatException>(() => InteractionLoader.Load(path, InteractionFormat.MovieLensCsv)).Message;
        Assert.StartsWith($"{path}:1: expected the header 'userId,movieId,rating,timestamp', found '{line[..80]}… ({line.Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} characters)'", message);
        Assert.True(message.Length < 300, message);
    }

    [Fact]
    public void Missing_file_and_inapplicable_options_are_errors()
    {
        var missing = Path.Combine(_directory, "none.csv");
        Assert.Equal($"Interaction file '{missing}' does not exist.", Assert.Throws<FileNotFoundException>(() => InteractionLoader.Load(missing, InteractionFormat.MovieLensCsv)).Message);
        Assert.Equal($"Interaction file '{_directory}' is a directory, not a file.", Assert.Throws<FileNotFoundException>(() => InteractionLoader.Load(_directory, InteractionFormat.MovieLensCsv)).Message);
        Assert.Equal($"Data file '{_directory}' is a directory, not a file.", Assert.Throws<FileNotFoundException>(() => SequenceFile.ReadSequences(_directory)).Message);
        var path = Write("pairs.txt", "u 1\n");
        Assert.Throws<ArgumentException>(() => InteractionLoader.Load(path, InteractionFormat.Pairs, new PreprocessingOptions { MinRating = 4 }));
    }

    [Fact]
    public void Real_movielens_and_gsasrec_files_load()
    {
        var small = InteractionLoader.Read(SharedData.Path("ml-latest-small", "ratings.csv"), InteractionFormat.MovieLensCsv);
        Assert.Equal(610, small.Data.UserCount);
        Assert.Equal(100_836, small.Data.InteractionCount);
        Assert.Equal(0, small.Summary.DuplicateRecords);

        var train = InteractionLoader.Load(SharedData.Path("ml-1m-gsasrec", "train", "input.txt"), InteractionFormat.Sequences);
        Assert.Equal(6040, train.UserCount);
        Assert.Equal(SequenceFile.ReadSequences(SharedData.Path("ml-1m-gsasrec", "train", "input.txt"))[17], train.Sequences[17]);
    }

    [Fact]
    public void Leave_one_out_holds_out_the_last_two_items()
    {
        var data = new SequenceDataset([[1, 2, 3, 4], [5, 6], [2, 5, 1]], SequenceDataset.IdentityVocabulary(6));
        var split = LeaveOneOutSplit.Create(data);
        Assert.Equal([1, 2], split.Train.Sequences[0]);
        Assert.Equal([5, 6], split.Train.Sequences[1]);
        Assert.Equal([2], split.Train.Sequences[2]);
        Assert.Equal(2, split.Validation.Count);
        Assert.Equal(new EvaluationCase([1, 2], 3).Target, split.Validation[0].Target);
        Assert.Equal([1, 2], split.Validation[0].History);
        Assert.Equal([1, 2, 3], split.Test[0].History);
        Assert.Equal(4, split.Test[0].Target);
        Assert.Equal([2, 5], split.Test[1].History);
        Assert.Equal(1, split.Test[1].Target);
    }

    [Fact]
    public void Without_a_test_set_leave_one_out_holds_out_the_last_item_for_validation()
    {
        var data = new SequenceDataset([[1, 2, 3, 4], [5, 6], [2]], SequenceDataset.IdentityVocabulary(6));
        var split = LeaveOneOutSplit.Create(data, withTest: false);
        Assert.False(split.HasTest);
        Assert.Empty(split.Test);
        Assert.Equal([[1, 2, 3], [5], [2]], split.Train.Sequences);
        Assert.Equal(2, split.Validation.Count);
        Assert.Equal([1, 2, 3], split.Validation[0].History);
        Assert.Equal(4, split.Validation[0].Target);
        Assert.Equal([5], split.Validation[1].History);
        Assert.Equal(6, split.Validation[1].Target);
    }
}
