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
