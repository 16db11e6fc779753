using System.Globalization;
using Recommender.Cli;
using Recommender.Model.Data;
using Recommender.Model.Nn;
using Recommender.Model.Tests.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class ColdStartCommandTests : IDisposable
{
    private static readonly string[] Genres = ["Horror|Thriller", "Comedy|Romance", "Animation|Children", "Western|War"];
    private const int PerGenre = 15;
    private readonly string _directory = SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Exit, string Output, string Error) Invoke(params string[] args) =>
        CommandRunner.Run(EvaluateColdStartCommand.Create(), args);

    /// <summary>
    /// A small MovieLens-format fixture: 60 movies in four genres; each user watches 12 movies of one genre, so a movie's
    /// genre (its text) is what predicts who watches it.
    /// </summary>
    private (string Ratings, string Movies, string Tags) Fixture()
    {
        var movies = new List<string> { "movieId,title,genres" };
        for (var m = 1; m <= Genres.Length * PerGenre; m++) movies.Add($"{m},Film {m} ({1990 + m % 20}),{Genres[(m - 1) / PerGenre]}");
        var ratings = new List<string> { "userId,movieId,rating,timestamp" };
        var rng = SplitMix.For(7);
        for (var u = 1; u <= 120; u++)
        {
            var genre = u % Genres.Length;
            var pool = Enumerable.Range(genre * PerGenre + 1, PerGenre).ToArray();
            for (var i = pool.Length - 1; i > 0; i--)
            {
                var j = rng.NextInt(i + 1);
                (pool[i], pool[j]) = (pool[j], pool[i]);
            }
            for (var t = 0; t < 12; t++) ratings.Add($"{u},{pool[t]},4.0,{1_000_000 + t * 60}");
        }
        var tags = new List<string> { "userId,movieId,tag,timestamp", "1,1,scary,5", "2,16,funny,6" };
        var paths = (Path.Combine(_directory, "ratings.csv"), Path.Combine(_directory, "movies.csv"), Path.Combine(_directory, "tags.csv"));
        File.WriteAllLines(paths.Item1, ratings);
        File.WriteAllLines(paths.Item2, movies);
        File.WriteAllLines(paths.Item3, tags);
        return paths;
    }

    private static Dictionary<string, double[]> Rows(string markdown) =>
        markdown.Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| model", StringComparison.Ordinal))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(cells => cells[0], cells => cells.Skip(1).Take(4).Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray());

    [Fact]
    public void Held_out_items_are_found_from_their_text_and_the_table_is_written_as_markdown()
    {
        var (ratings, movies, tags) = Fixture();
        var markdown = Path.Combine(_directory, "report", "cold-start.md");
        var work = Path.Combine(_directory, "work");
        var (exit, output, error) = Invoke("--ratings", ratings, "--movies", movies, "--tags", tags, "--out", work, "--markdown", markdown,
            "--holdout", "0.1", "--seed", "3", "--dim", "16", "--max-length", "12", "--blocks", "1", "--epochs", "12", "--batch-size", "32",
            "--lr", "0.005", "--patience", "20", "--threads", "2");
        Assert.True(exit == 0, error + output);
        Assert.Contains("encoded 60 items", output);
        Assert.Contains("6 held out", output);
        foreach (var model in new[] { "id+text", "popularity", "random" }) Assert.Contains(model, output);

        var rows = Rows(File.ReadAllText(markdown));
        Assert.Equal(["id", "text", "id+text", "popularity", "random"], rows.Keys);
        // Columns: LOO HR@10, LOO NDCG@10, cold HR@10, cold NDCG@10.
        Assert.All(rows.Values, v => Assert.All(v, x => Assert.InRange(x, 0, 1)));
        Assert.Equal(0, rows["id"][2]);          // an id-only model has no vector for an item it never saw
        Assert.Equal(0, rows["popularity"][2]);  // nor does popularity: the held-out items have no training count
        Assert.True(rows["random"][2] > 0.05, $"random cold HR@10 {rows["random"][2]}");
        foreach (var model in new[] { "text", "id+text" })
            Assert.True(rows[model][2] >= 2 * rows["random"][2], $"{model} cold HR@10 {rows[model][2]} vs random {rows["random"][2]}");
        Assert.True(File.Exists(Path.Combine(work, "id-text", "package", "text_projection.onnx")));
        Assert.False(File.Exists(Path.Combine(work, "id", "package", "text_projection.onnx")));

        // A second run reads the text vectors from the cache instead of encoding again.
        var again = Invoke("--ratings", ratings, "--movies", movies, "--tags", tags, "--out", work, "--representations", "text",
            "--dim", "8", "--max-length", "12", "--blocks", "1", "--epochs", "1", "--threads", "2");
        Assert.True(again.Exit == 0, again.Error);
        Assert.Contains("read from the cache", again.Output);
    }

    [Fact]
    public void The_split_holds_items_out_of_training_entirely_and_is_reproducible()
    {
        var (ratings, movies, _) = Fixture();
        var data = InteractionLoader.Load(ratings, InteractionFormat.MovieLensCsv);
        var withText = MovieLensText.Compose(movies, null).Keys.ToHashSet();
        var split = ColdStartSplit.Create(data, withText, 0.1, seed: 3);
        Assert.Equal(6, split.HeldOutItemCount);
        Assert.Equal(54, split.KnownItemCount);
        Assert.Empty(split.HeldOutItemIds.Intersect(split.Known.Train.ItemIds));
        Assert.All(split.Known.Train.Sequences.Concat(split.Known.Test.Select(c => c.History)), s => Assert.All(s, i => Assert.InRange(i, 1, 54)));
        Assert.All(split.ColdCases, c =>
        {
            Assert.InRange(c.Target, 55, 60);
            Assert.NotEmpty(c.History);
            Assert.DoesNotContain(c.Target, c.Seen);
        });
        Assert.Equal(split.HeldOutItemIds, ColdStartSplit.Create(data, withText, 0.1, seed: 3).HeldOutItemIds);
        Assert.NotEqual(split.HeldOutItemIds, ColdStartSplit.Create(data, withText, 0.1, seed: 4).HeldOutItemIds);
    }

    [Fact]
    public void Bad_inputs_exit_non_zero_naming_what_is_wrong()
    {
        var (ratings, movies, _) = Fixture();
        var work = Path.Combine(_directory, "work");
        var missing = Path.Combine(_directory, "nope.csv");
        var noRatings = Invoke("--ratings", missing, "--movies", movies, "--out", work);
        Assert.Equal(1, noRatings.Exit);
        Assert.Contains(missing, noRatings.Error);

        var noMovies = Invoke("--ratings", ratings, "--movies", missing, "--out", work);
        Assert.Equal(1, noMovies.Exit);
        Assert.Contains(missing, noMovies.Error);

        var noText = Invoke("--ratings", ratings, "--out", work);
        Assert.Equal(1, noText.Exit);
        Assert.Contains("--movies", noText.Error);

        var badFraction = Invoke("--ratings", ratings, "--movies", movies, "--out", work, "--holdout", "1.5");
        Assert.Equal(1, badFraction.Exit);
        Assert.Contains("--holdout is 1.5; it must be in (0, 1).", badFraction.Error);

        var badShape = Invoke("--ratings", ratings, "--movies", movies, "--out", work, "--dim", "10", "--heads", "3");
        Assert.Equal(1, badShape.Exit);
        Assert.Contains("--dim 10 must be a positive multiple of --heads 3", badShape.Error);

        var noThreads = Invoke("--ratings", ratings, "--movies", movies, "--out", work, "--threads", "0");
        Assert.Equal(1, noThreads.Exit);
        Assert.Contains("--threads 0 must be between 1 and 1,024", noThreads.Error);

        var badModel = Invoke("--ratings", ratings, "--movies", movies, "--out", work, "--representations", "id,words");
        Assert.Equal(1, badModel.Exit);
        Assert.Contains("'words' is not one of", badModel.Error);

        // One user with two items: whichever is held out, no cold-start event or no leave-one-out case is left, and
        // that is reported before the language model encodes anything (no text cache is written).
        var tinyRatings = Path.Combine(_directory, "tiny-ratings.csv");
        var tinyMovies = Path.Combine(_directory, "tiny-movies.csv");
        File.WriteAllLines(tinyRatings, ["userId,movieId,rating,timestamp", "1,1,4,10", "1,2,5,20"]);
        File.WriteAllLines(tinyMovies, ["movieId,title,genres", "1,One (1990),Drama", "2,Two (1991),Comedy"]);
        var tinyWork = Path.Combine(_directory, "tiny");
        var noCases = Invoke("--ratings", tinyRatings, "--movies", tinyMovies, "--out", tinyWork, "--holdout", "0.5");
        Assert.Equal(1, noCases.Exit);
        Assert.Contains("--holdout 0.5 leaves", noCases.Error);
        Assert.Contains("both are needed to compare the models", noCases.Error);
        Assert.False(File.Exists(Path.Combine(tinyWork, "text-vectors.tsv")), "Nothing may be encoded for a run that cannot score.");

        var vectors = Path.Combine(_directory, "vectors.tsv");
        File.WriteAllLines(vectors, ["#text-vectors encoder=e dimension=3", "1\t0.1 0.2 0.3", "2\t0.1 0.2"]);
        var wrongDimension = Invoke("--ratings", ratings, "--text-vectors", vectors, "--out", work);
        Assert.Equal(1, wrongDimension.Exit);
        Assert.Contains("vectors.tsv:3: item '2' has 2 values; the header says dimension 3", wrongDimension.Error);
    }
}
