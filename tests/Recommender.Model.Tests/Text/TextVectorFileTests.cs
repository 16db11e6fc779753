using Recommender.Model.Tests.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Text;

public sealed class TextVectorFileTests : IDisposable
{
    private readonly ScratchDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Write(string name, params string[] lines) => _directory.Write(name, lines);

    [Fact]
    public void Round_trips_vectors_exactly_with_encoder_template_and_source()
    {
        var vectors = new Dictionary<string, float[]> { ["10"] = [0.1f, -2.5e-7f, 3f], ["2"] = [1f / 3, 0f, -1f] };
        var path = _directory["v.tsv"];
        TextVectorFile.Write(path, new TextVectors("enc", 3, "{title}. {text}", vectors), source: "abc123");
        var read = TextVectorFile.Read(path, out var source);
        Assert.Equal("enc", read.Encoder);
        Assert.Equal(3, read.Dimension);
        Assert.Equal("{title}. {text}", read.Template);
        Assert.Equal("abc123", source);
        Assert.Equal(vectors["10"], read.Vectors["10"]);
        Assert.Equal(vectors["2"], read.Vectors["2"]);
        Assert.Equal([1f / 3, 0f, -1f, 0f, 0f, 0f], read.ForItems(["2", "missing"], out var missing));
        Assert.Equal(1, missing);
    }

    [Fact]
    public void Malformed_files_are_rejected_naming_the_line_and_the_problem()
    {
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => TextVectorFile.Read(_directory["none.tsv"])).Message);
        Assert.Contains(":1: expected the header", Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("a.tsv", "1\t0.5 0.5"))).Message);
        Assert.Contains("gives no dimension", Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("b.tsv", "#text-vectors encoder=e"))).Message);
        var wrong = Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("c.tsv", "#text-vectors encoder=e dimension=2", "1\t0.5 0.5", "7\t0.5 0.5 0.5")));
        Assert.Contains("c.tsv:3: item '7' has 3 values; the header says dimension 2", wrong.Message);
        Assert.Contains(":3: item '1' appears twice", Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("d.tsv", "#text-vectors encoder=e dimension=1", "1\t1", "1\t2"))).Message);
        Assert.Contains("is not a finite number", Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("e.tsv", "#text-vectors encoder=e dimension=1", "1\tNaN"))).Message);
    }

    [Fact]
    public void Text_digests_round_trip_and_a_line_without_its_announced_digest_is_rejected()
    {
        var vectors = new Dictionary<string, float[]> { ["a"] = [0.5f, -1f], ["b"] = [2f, 0.25f] };
        var digests = new Dictionary<string, string> { ["a"] = TextVectors.TextDigest("Lamp. Brass"), ["b"] = TextVectors.TextDigest("Oven") };
        var path = _directory["digests.tsv"];
        TextVectorFile.Write(path, new TextVectors("enc", 2, "{title}. {text}", vectors, digests));
        var read = TextVectorFile.Read(path);
        Assert.Equal(digests, read.TextDigests);
        Assert.Equal(vectors["b"], read.Vectors["b"]);
        Assert.Equal("{title}. {text}", read.Template);
        Assert.Null(TextVectorFile.Read(Write("plain.tsv", "#text-vectors encoder=e dimension=1", "1\t1")).TextDigests);
        Assert.Equal(32, digests["a"].Length);
        Assert.NotEqual(digests["a"], TextVectors.TextDigest("Lamp. brass"));

        var short_ = Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("short.tsv", "#text-vectors encoder=e dimension=1 digests=sha256", $"1\t1\t{digests["a"]}", "2\t1")));
        Assert.Contains("short.tsv:3: item '2' lacks its text digest", short_.Message);
        Assert.Contains("digests 'md5' is not known", Assert.Throws<FormatException>(() => TextVectorFile.Read(Write("md5.tsv", "#text-vectors encoder=e dimension=1 digests=md5"))).Message);
    }

    [Fact]
    public void Encode_text_with_reuse_encodes_only_new_and_changed_texts_and_keeps_the_rest()
    {
        string Item(string id, string title, string text) => $$"""{"id":"{{id}}","title":"{{title}}","text":"{{text}}"}""";
        var first = Write("items.jsonl", Item("1", "Desk lamp", "Brass"), Item("2", "Oven", "Steel"), Item("3", "Kettle", "Copper"), Item("4", "Chair", "Oak"));
        var before = _directory["before.tsv"];
        var (exit, output, error) = CommandRunner.Run(Cli.EncodeTextCommand.Create(), "--items", first, "--out", before, "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("encoded 4 items", output);
        var old = TextVectorFile.Read(before);
        Assert.Equal(4, old.TextDigests!.Count);

        // Item 2's text changed, item 3 left, item 5 arrived with item 4's text, item 6 is new.
        var second = Write("items-2.jsonl", Item("1", "Desk lamp", "Brass"), Item("2", "Oven", "Cast iron"), Item("4", "Chair", "Oak"), Item("5", "Chair", "Oak"), Item("6", "Rug", "Wool"));
        var after = _directory["after.tsv"];
        (exit, output, error) = CommandRunner.Run(Cli.EncodeTextCommand.Create(), "--items", second, "--out", after, "--threads", "1", "--reuse", before);
        Assert.True(exit == 0, error);
        Assert.Contains("encoded 2 items", output);
        Assert.Contains($"reused 3 from {before}", output);
        var now = TextVectorFile.Read(after);
        Assert.Equal(["1", "2", "4", "5", "6"], now.Vectors.Keys.Order());
        Assert.Equal(old.Vectors["1"], now.Vectors["1"]);
        Assert.Equal(old.Vectors["4"], now.Vectors["5"]);
        Assert.NotEqual(old.Vectors["2"], now.Vectors["2"]);
        // What was encoded is what a whole encoding gives.
        var whole = _directory["whole.tsv"];
        (exit, _, error) = CommandRunner.Run(Cli.EncodeTextCommand.Create(), "--items", second, "--out", whole, "--threads", "1");
        Assert.True(exit == 0, error);
        var fresh = TextVectorFile.Read(whole);
        foreach (var id in now.Vectors.Keys)
        {
            Assert.Equal(fresh.TextDigests![id], now.TextDigests![id]);
            for (var k = 0; k < fresh.Dimension; k++) Assert.Equal(fresh.Vectors[id][k], now.Vectors[id][k], 1e-5f);
        }

        // A file without digests cannot say which texts changed.
        (exit, _, error) = CommandRunner.Run(Cli.EncodeTextCommand.Create(), "--items", second, "--out", _directory["x.tsv"], "--reuse", Write("plain.tsv", "#text-vectors encoder=e dimension=1", "1\t1"));
        Assert.Equal(1, exit);
        Assert.Contains("holds no text digests", error);
        Assert.False(File.Exists(_directory["x.tsv"]));
    }

    [Fact]
    public void MovieLens_text_joins_genres_and_puts_the_most_used_tags_first()
    {
        var movies = Write("movies.csv", "movieId,title,genres", "1,\"American President, The (1995)\",Comedy|Drama|Romance", "2,Unknown (2000),(no genres listed)");
        var tags = Write("tags.csv", "userId,movieId,tag,timestamp", "5,1,politics,1", "6,1,Sorkin,2", "7,1,sorkin,3", "8,2,odd,4");
        var texts = MovieLensText.Compose(movies, tags);
        Assert.Equal("American President, The (1995). Comedy, Drama, Romance. Tags: Sorkin, politics", texts["1"]);
        Assert.Equal("Unknown (2000). Tags: odd", texts["2"]);
        Assert.Equal("Unknown (2000)", MovieLensText.Compose(movies, null)["2"]);
        Assert.NotEqual(MovieLensText.Fingerprint(texts), MovieLensText.Fingerprint(MovieLensText.Compose(movies, null)));
        Assert.Contains("movies.csv:2: expected 3 fields", Assert.Throws<FormatException>(() => MovieLensText.Compose(Write("movies.csv", "movieId,title,genres", "1,Title"), null)).Message);
    }

    [Fact]
    public void Encoded_movie_vectors_are_cached_and_reused_only_for_the_same_texts()
    {
        var movies = Write("movies.csv", "movieId,title,genres", "1,Alien (1979),Horror|Sci-Fi", "2,Babe (1995),Children|Drama");
        var cache = Path.Combine(_directory["cache"], "vectors.tsv");
        var (first, fromCache) = MovieLensText.LoadOrEncode(movies, null, cache, threads: 1);
        Assert.False(fromCache);
        Assert.Equal(SentenceTextEncoder.Dimension, first.Dimension);
        var (second, again) = MovieLensText.LoadOrEncode(movies, null, cache, threads: 1);
        Assert.True(again);
        Assert.Equal(first.Vectors["1"], second.Vectors["1"]);
        Write("movies.csv", "movieId,title,genres", "1,Alien (1979),Horror|Sci-Fi", "2,Babe (1995),Children|Comedy");
        var (third, changed) = MovieLensText.LoadOrEncode(movies, null, cache, threads: 1);
        Assert.False(changed);
        Assert.Equal(first.Vectors["1"], third.Vectors["1"]);
        Assert.NotEqual(first.Vectors["2"], third.Vectors["2"]);
    }
}
