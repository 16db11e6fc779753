using Recommender.Cli;
using Recommender.Model.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Data;

public sealed class SplitCommandTests : IDisposable
{
    private readonly ScratchDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Write(string name, params string[] lines) => _directory.Write(name, lines);

    /// <summary>Three users in movielens-csv, rows out of time order: user 7 rated 10, 30, 50, 20; user 9 rated 30, 40, 50; user 12 only 20, 10.</summary>
    private string Ratings() => Write("ratings.csv",
        "userId,movieId,rating,timestamp",
        "7,50,4,300", "7,10,5,100", "9,30,5,10", "7,30,3,200", "12,20,4,5", "9,50,3,30", "7,20,4,400", "9,40,2,20", "12,10,4,6");

    private static float[] Vector(int item) => [item, 1f / item, -item];

    private string Vectors(params int[] items) => WriteVectors("vectors.tsv", items);

    private string WriteVectors(string name, params int[] items)
    {
        var path = _directory[name];
        // With the text digests encode-text writes, which a split's file leaves out.
        TextVectorFile.Write(path, new TextVectors("test-encoder", 3, ItemText.Template, items.ToDictionary(i => i.ToString(), Vector),
            items.ToDictionary(i => i.ToString(), i => TextVectors.TextDigest($"text {i}"))));
        return path;
    }

    [Fact]
    public void Split_writes_leave_one_out_files_in_dense_ids_with_the_id_map_and_rekeyed_text_vectors_that_train_reads()
    {
        var output = _directory["split"];
        var (exit, text, error) = CommandRunner.Run(SplitCommand.Create(),
            "--data", Ratings(), "--format", "movielens-csv", "--out", output, "--text-vectors", Vectors(10, 20, 30, 99));
        Assert.True(exit == 0, error);
        Assert.Contains("3 users, 5 items: 2 validation and test cases; 1 user with fewer than three interactions is in train/ only", text);
        Assert.Contains("2 of 5 items have no vector", text);

        var external = File.ReadAllLines(Path.Combine(output, SplitFiles.ItemsFile)).Select(l => l.Split('\t')).ToDictionary(f => int.Parse(f[0]), f => f[1]);
        Assert.Equal(["10", "20", "30", "40", "50"], external.Values.Order().ToArray());
        Assert.Equal(Enumerable.Range(1, 5), external.Keys.Order());
        string Names(IEnumerable<int> items) => string.Join(' ', items.Select(i => external[i]));

        // Each user's last item is the test target and the one before it the validation target; user 12 trains only.
        var train = SequenceFile.ReadSequences(Path.Combine(output, "train", "input.txt")).Select(Names).Order();
        Assert.Equal(["10 30", "20 10", "30"], train);
        var validation = SequenceFile.ReadEvaluationCases(Path.Combine(output, "val", "input.txt"), Path.Combine(output, "val", "output.txt"))
            .Select(c => $"{Names(c.History)} -> {external[c.Target]}").Order();
        Assert.Equal(["10 30 -> 50", "30 -> 40"], validation);
        var test = SequenceFile.ReadEvaluationCases(Path.Combine(output, "test", "input.txt"), Path.Combine(output, "test", "output.txt"))
            .Select(c => $"{Names(c.History)} -> {external[c.Target]}").Order();
        Assert.Equal(["10 30 50 -> 20", "30 40 -> 50"], test);

        // The text vectors are keyed by dense id now, with encoder, dimension and template kept.
        var vectors = TextVectorFile.Read(Path.Combine(output, SplitCommand.TextVectorsFile));
        Assert.Equal(("test-encoder", 3, ItemText.Template), (vectors.Encoder, vectors.Dimension, vectors.Template));
        Assert.Equal(3, vectors.Vectors.Count);
        foreach (var (dense, vector) in vectors.Vectors) Assert.Equal(Vector(int.Parse(external[int.Parse(dense)])), vector);

        // train reads the files as they are: validation, test and the text vectors of 3 of its 5 items.
        (exit, text, error) = CommandRunner.Run(TrainCommand.Create(),
            "--train", Path.Combine(output, "train", "input.txt"),
            "--val-input", Path.Combine(output, "val", "input.txt"), "--val-output", Path.Combine(output, "val", "output.txt"),
            "--test-input", Path.Combine(output, "test", "input.txt"), "--test-output", Path.Combine(output, "test", "output.txt"),
            "--item-text", "id+text", "--item-text-file", Path.Combine(output, SplitCommand.TextVectorsFile),
            "--out", _directory["run"], "--dim", "4", "--max-length", "4", "--blocks", "1", "--epochs", "1", "--batch-size", "2", "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("2 of 5 items have no text vector", text);
        Assert.Contains("test (best checkpoint", text);
    }

    [Fact]
    public void Train_with_the_splits_item_ids_reads_its_text_vectors_by_dense_id_and_refuses_a_file_keyed_by_catalogue_id()
    {
        // Catalogue ids 2-6 and dense ids 1-5 overlap: a lookup under the wrong keys would find four vectors, of other items.
        var ratings = Write("numeric.csv", ["userId,movieId,rating,timestamp", .. Enumerable.Range(1, 6).SelectMany(u =>
            Enumerable.Range(0, 5).Select(i => $"{u},{2 + (u + i) % 5},4,{u * 100 + i}"))]);
        var byCatalogueId = WriteVectors("catalogue-vectors.tsv", 2, 3, 4, 5, 6);
        var output = _directory["numeric-split"];
        var (exit, text, error) = CommandRunner.Run(SplitCommand.Create(), "--data", ratings, "--format", "movielens-csv", "--out", output, "--text-vectors", byCatalogueId);
        Assert.True(exit == 0, error);
        string[] Train(string run, string vectors) =>
        [
            "--train", Path.Combine(output, "train", "input.txt"), "--item-ids", Path.Combine(output, SplitFiles.ItemsFile),
            "--item-text", "id+text", "--item-text-file", vectors, "--no-validation",
            "--out", _directory[run], "--dim", "4", "--max-length", "4", "--blocks", "1", "--epochs", "1", "--batch-size", "2", "--threads", "1",
        ];

        (exit, text, error) = CommandRunner.Run(TrainCommand.Create(), Train("run", Path.Combine(output, SplitCommand.TextVectorsFile)));
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("have no text vector", text);

        (exit, _, error) = CommandRunner.Run(TrainCommand.Create(), Train("wrong-run", byCatalogueId));
        Assert.Equal(1, exit);
        Assert.Contains("is keyed by the catalogue's item ids (5 of 5 items found that way, 4 by dense id)", error);
        Assert.Contains("re-keyed by split", error);
    }

    [Fact]
    public void Without_a_test_set_each_users_last_item_is_the_validation_target_and_the_rest_trains()
    {
        var output = _directory["split"];
        var (exit, text, error) = CommandRunner.Run(SplitCommand.Create(), "--data", Ratings(), "--format", "movielens-csv", "--out", output, "--no-test");
        Assert.True(exit == 0, error);
        Assert.Contains("3 users, 5 items: 3 validation cases; no test set (--no-test)", text);
        Assert.DoesNotContain(Path.Combine(output, "test"), text);
        Assert.False(Directory.Exists(Path.Combine(output, "test")));

        var external = File.ReadAllLines(Path.Combine(output, SplitFiles.ItemsFile)).Select(l => l.Split('\t')).ToDictionary(f => int.Parse(f[0]), f => f[1]);
        string Names(IEnumerable<int> items) => string.Join(' ', items.Select(i => external[i]));
        // User 7 rated 10, 30, 50, 20; user 9 30, 40, 50; user 12 20, 10: one item each held out, user 12's too.
        Assert.Equal(["10 30 50", "20", "30 40"], SequenceFile.ReadSequences(Path.Combine(output, "train", "input.txt")).Select(Names).Order());
        var validation = SequenceFile.ReadEvaluationCases(Path.Combine(output, "val", "input.txt"), Path.Combine(output, "val", "output.txt"))
            .Select(c => $"{Names(c.History)} -> {external[c.Target]}").Order();
        Assert.Equal(["10 30 50 -> 20", "20 -> 10", "30 40 -> 50"], validation);
    }

    [Fact]
    public void Split_refuses_text_vectors_for_other_items_and_data_without_a_test_case_and_writes_nothing()
    {
        var output = _directory["split"];
        var (exit, _, error) = CommandRunner.Run(SplitCommand.Create(),
            "--data", Ratings(), "--format", "movielens-csv", "--out", output, "--text-vectors", Vectors(98, 99));
        Assert.Equal(1, exit);
        Assert.Contains("None of the 5 items has a vector", error);
        Assert.False(Directory.Exists(output));

        var short_ = Write("short.csv", "userId,movieId,rating,timestamp", "1,10,4,1", "1,20,4,2", "2,20,4,1");
        (exit, _, error) = CommandRunner.Run(SplitCommand.Create(), "--data", short_, "--format", "movielens-csv", "--out", output);
        Assert.Equal(1, exit);
        Assert.Contains("no user has three or more interactions", error);
        Assert.False(Directory.Exists(output));

        // Without a test set two interactions are enough; a single one is not.
        var single = Write("single.csv", "userId,movieId,rating,timestamp", "1,10,4,1", "2,20,4,1");
        (exit, _, error) = CommandRunner.Run(SplitCommand.Create(), "--data", single, "--format", "movielens-csv", "--out", output, "--no-test");
        Assert.Equal(1, exit);
        Assert.Contains("no user has two or more interactions, so there is nothing to validate on", error);
        Assert.False(Directory.Exists(output));
        (exit, var text, error) = CommandRunner.Run(SplitCommand.Create(), "--data", short_, "--format", "movielens-csv", "--out", output, "--no-test");
        Assert.True(exit == 0, error);
        Assert.Contains("2 users, 2 items: 1 validation cases; 1 user with fewer than two interactions is in train/ only; no test set (--no-test)", text);
        Directory.Delete(output, recursive: true);

        (exit, _, error) = CommandRunner.Run(SplitCommand.Create(), "--data", Ratings(), "--format", "movielens-csv", "--out", output, "--min-item-interactions", "-1");
        Assert.Equal(1, exit);
        Assert.Contains("--min-item-interactions is -1", error);
        Assert.False(Directory.Exists(output));
    }
}
