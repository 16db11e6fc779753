using Recommender.Abstractions;
using Recommender.Cluster.Tests.Infrastructure;
using Recommender.Hosting.Demo;

namespace Recommender.Cluster.Tests.Unit;

public sealed class MovieLensCatalogueTests
{
    [Theory]
    [InlineData("1,Toy Story (1995),Comedy", new[] { "1", "Toy Story (1995)", "Comedy" })]
    [InlineData("11,\"American President, The (1995)\",Comedy|Drama", new[] { "11", "American President, The (1995)", "Comedy|Drama" })]
    [InlineData("5,\"Say \"\"Hi\"\"\",", new[] { "5", "Say \"Hi\"", "" })]
    public void Csv_fields_follow_rfc_4180_quoting(string line, string[] expected) =>
        Assert.Equal(expected, MovieLensCatalogue.SplitCsv(line));

    [Fact]
    public void The_bundled_demo_has_every_movie_and_every_rating_in_time_order()
    {
        var demo = MovieLensCatalogue.Load(Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small"));
        Assert.Equal(9742, demo.Items.Count);
        Assert.Equal(610, demo.Histories.Count);
        Assert.Equal(100_836, demo.Histories.Values.Sum(h => h.Length));
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "Demo", "ml-latest-small", "README.txt")));
        var president = demo.Items.Single(i => i.Id == "11");
        Assert.Equal("American President, The (1995)", president.Title);
        Assert.Equal(["Comedy", "Drama", "Romance"], president.Tags);
        foreach (var history in demo.Histories.Values)
            for (var i = 1; i < history.Length; i++) Assert.True(history[i - 1].Timestamp <= history[i].Timestamp);
        Assert.All(demo.Histories["1"], e => Assert.Equal(EventType.Rating, e.Type));
    }

    [Fact]
    public void A_malformed_row_is_an_error_naming_file_and_line()
    {
        var directory = SmallCatalogue.Write(Path.Combine(Path.GetTempPath(), "recommender-tests", Guid.NewGuid().ToString("N")));
        File.AppendAllText(Path.Combine(directory, "ratings.csv"), "7,3,not-a-number,1000\n");
        var error = Assert.Throws<FormatException>(() => MovieLensCatalogue.Load(directory));
        Assert.Contains("ratings.csv:", error.Message);
        Assert.Contains("not-a-number", error.Message);
        Directory.Delete(directory, recursive: true);
    }
}
