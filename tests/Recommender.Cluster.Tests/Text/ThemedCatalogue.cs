using System.Globalization;
using System.Text;

namespace Recommender.Cluster.Tests.Text;

/// <summary>
/// A small catalogue in MovieLens CSV layout whose titles and genres carry meaning, for the text tests: space
/// adventures (odd movie ids) and kitchen romances (even ids), and users who mostly stay with one theme (odd users:
/// space, even users: kitchen), so that both the behaviour model and the item texts separate the two themes.
/// </summary>
public static class ThemedCatalogue
{
    public const int Movies = 80;
    public const int Users = 60;

    private static readonly string[] SpaceWords = ["Starship", "Galaxy", "Asteroid", "Nebula", "Orbit", "Rocket", "Alien Planet", "Space Station", "Comet", "Moon Base"];
    private static readonly string[] SpaceEndings = ["Odyssey", "Invasion", "Rescue Mission", "Frontier", "Wars", "Escape", "Voyage", "Colony"];
    private static readonly string[] KitchenWords = ["Bakery", "Wedding Cake", "Chef", "Recipe", "Pastry", "Bistro", "Cooking Class", "Chocolate", "Vineyard", "Farmers Market"];
    private static readonly string[] KitchenEndings = ["Love Story", "Romance", "Sweethearts", "First Date", "Kiss", "Valentine", "Honeymoon", "Engagement"];

    public static bool IsSpace(int movie) => movie % 2 == 1;

    public static string Title(int movie) => IsSpace(movie)
        ? $"{SpaceWords[movie / 2 % SpaceWords.Length]} {SpaceEndings[movie / 7 % SpaceEndings.Length]} {movie}"
        : $"{KitchenWords[movie / 2 % KitchenWords.Length]} {KitchenEndings[movie / 7 % KitchenEndings.Length]} {movie}";

    public static string Genres(int movie) => IsSpace(movie) ? "Sci-Fi|Adventure|Action" : "Romance|Comedy";

    public static string Write(string directory, int seed = 11)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var movies = new StringBuilder("movieId,title,genres\n");
        for (var m = 1; m <= Movies; m++) movies.Append(CultureInfo.InvariantCulture, $"{m},{Title(m)},{Genres(m)}\n");
        File.WriteAllText(Path.Combine(directory, "movies.csv"), movies.ToString());

        var ratings = new StringBuilder("userId,movieId,rating,timestamp\n");
        for (var u = 1; u <= Users; u++)
        {
            var time = 1_000_000_000L + u * 100_000;
            var seen = new HashSet<int>();
            var count = 15 + random.Next(10);
            while (seen.Count < count)
            {
                var movie = 1 + random.Next(Movies);
                if (IsSpace(movie) != (u % 2 == 1) && random.NextDouble() < 0.92) continue;
                if (!seen.Add(movie)) continue;
                time += 60 + random.Next(600);
                ratings.Append(CultureInfo.InvariantCulture, $"{u},{movie},{1 + random.Next(5)}.0,{time}\n");
            }
        }
        File.WriteAllText(Path.Combine(directory, "ratings.csv"), ratings.ToString());
        File.WriteAllText(Path.Combine(directory, "tags.csv"), "userId,movieId,tag,timestamp\n1,1,spaceships,1000000001\n2,2,sweet,1000000002\n");
        return directory;
    }
}
