using System.Globalization;
using System.Text;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>
/// A small catalogue in MovieLens CSV layout, generated for tests that need a seeded cluster in seconds: two
/// "genres" of movies (odd and even ids) and users who mostly stay within one, so the baseline model learns structure.
/// </summary>
public static class SmallCatalogue
{
    public const int Movies = 120;
    public const int Users = 60;

    public static string Title(int movie) => $"Movie {movie} ({1950 + movie % 60})";

    public static string Write(string directory, int seed = 7)
    {
        Directory.CreateDirectory(directory);
        var random = new Random(seed);
        var movies = new StringBuilder("movieId,title,genres\n");
        for (var m = 1; m <= Movies; m++)
        {
            // Quoted titles with commas exercise the CSV reader as the real movies.csv does.
            var title = m % 10 == 0 ? $"\"{Title(m)}, The\"" : Title(m);
            movies.Append(CultureInfo.InvariantCulture, $"{m},{title},{(m % 2 == 0 ? "Drama|Romance" : "Action|Thriller")}\n");
        }
        File.WriteAllText(Path.Combine(directory, "movies.csv"), movies.ToString());

        var ratings = new StringBuilder("userId,movieId,rating,timestamp\n");
        for (var u = 1; u <= Users; u++)
        {
            var parity = u % 2;
            var time = 1_000_000_000L + u * 100_000;
            var seen = new HashSet<int>();
            var count = 15 + random.Next(15);
            while (seen.Count < count)
            {
                var movie = 1 + random.Next(Movies);
                if (movie % 2 != parity && random.NextDouble() < 0.9) continue;
                if (!seen.Add(movie)) continue;
                time += 60 + random.Next(600);
                ratings.Append(CultureInfo.InvariantCulture, $"{u},{movie},{1 + random.Next(5)}.0,{time}\n");
            }
        }
        File.WriteAllText(Path.Combine(directory, "ratings.csv"), ratings.ToString());
        File.WriteAllText(Path.Combine(directory, "tags.csv"), "userId,movieId,tag,timestamp\n1,2,slow burn,1000000001\n1,2,\"quiet, moving\",1000000002\n");
        return directory;
    }
}
