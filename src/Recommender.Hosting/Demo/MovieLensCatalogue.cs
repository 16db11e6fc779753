using System.Globalization;
using System.Text;
using Recommender.Abstractions;

namespace Recommender.Hosting.Demo;

/// <summary>
/// The demo data in MovieLens CSV layout: items from movies.csv (title; genres as tags) with the free-text tags of
/// tags.csv as their text, and every rating of ratings.csv as a "rating" event, per user in timestamp order
/// (ties: by movie id, as the model's loader orders them).
/// </summary>
public sealed class MovieLensCatalogue
{
    public const string RatingsFile = "ratings.csv";
    public const string MoviesFile = "movies.csv";
    public const string TagsFile = "tags.csv";

    private MovieLensCatalogue(IReadOnlyList<ItemDetails> items, IReadOnlyDictionary<string, UserEvent[]> histories)
    {
        Items = items;
        Histories = histories;
    }

    public IReadOnlyList<ItemDetails> Items { get; }

    /// <summary>Events per user id, chronological.</summary>
    public IReadOnlyDictionary<string, UserEvent[]> Histories { get; }

    public static MovieLensCatalogue Load(string directory)
    {
        var moviesPath = Path.Combine(directory, MoviesFile);
        var ratingsPath = Path.Combine(directory, RatingsFile);
        if (!File.Exists(moviesPath)) throw new FileNotFoundException($"Demo data '{moviesPath}' is missing.", moviesPath);
        if (!File.Exists(ratingsPath)) throw new FileNotFoundException($"Demo data '{ratingsPath}' is missing.", ratingsPath);

        var tagText = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var tagsPath = Path.Combine(directory, TagsFile);
        if (File.Exists(tagsPath))
            foreach (var (fields, _) in Rows(tagsPath, 4))
            {
                if (!tagText.TryGetValue(fields[1], out var list)) tagText[fields[1]] = list = [];
                if (!list.Contains(fields[2], StringComparer.OrdinalIgnoreCase)) list.Add(fields[2]);
            }

        var items = new List<ItemDetails>();
        foreach (var (fields, _) in Rows(moviesPath, 3))
        {
            var genres = fields[2] == "(no genres listed)" ? [] : fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries);
            var text = tagText.TryGetValue(fields[0], out var tags) ? string.Join(", ", tags) : null;
            items.Add(new ItemDetails(fields[0], fields[1], text, genres));
        }

        var ratings = new Dictionary<string, List<(string Item, long Time, double Rating)>>(StringComparer.Ordinal);
        foreach (var (fields, line) in Rows(ratingsPath, 4))
        {
            if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rating))
                throw new FormatException($"{ratingsPath}:{line}: rating '{fields[2]}' is not a number.");
            if (!long.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var time))
                throw new FormatException($"{ratingsPath}:{line}: timestamp '{fields[3]}' is not an integer.");
            if (!ratings.TryGetValue(fields[0], out var list)) ratings[fields[0]] = list = [];
            list.Add((fields[1], time, rating));
        }
        var histories = ratings.ToDictionary(
            p => p.Key,
            p => p.Value
                .OrderBy(r => r.Time)
                .ThenBy(r => r.Item, NumericFirst.Instance)
                .Select(r =>
                {
                    var timestamp = DateTimeOffset.FromUnixTimeSeconds(r.Time);
                    return new UserEvent(r.Item, EventType.Rating, timestamp, EventIds.Derive(p.Key, r.Item, EventType.Rating, timestamp), r.Rating);
                })
                .ToArray(),
            StringComparer.Ordinal);
        return new MovieLensCatalogue(items, histories);
    }

    /// <summary>Data rows (header skipped) split on commas outside double quotes; a row with a different field count is an error naming the line.</summary>
    private static IEnumerable<(string[] Fields, int Line)> Rows(string path, int fieldCount)
    {
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (line == 1 || text.Length == 0) continue;
            var fields = SplitCsv(text);
            if (fields.Length != fieldCount)
                throw new FormatException($"{path}:{line}: expected {fieldCount} comma-separated fields, found {fields.Length}.");
            yield return (fields, line);
        }
    }

    /// <summary>RFC 4180 fields: quotes may enclose a field, and "" inside quotes is one quote.</summary>
    internal static string[] SplitCsv(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields.ToArray();
    }

    /// <summary>Numeric ids by value, then anything else ordinally.</summary>
    private sealed class NumericFirst : IComparer<string>
    {
        public static readonly NumericFirst Instance = new();

        public int Compare(string? x, string? y)
        {
            var xNumber = long.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var a);
            var yNumber = long.TryParse(y, NumberStyles.None, CultureInfo.InvariantCulture, out var b);
            if (xNumber && yNumber) return a.CompareTo(b);
            if (xNumber != yNumber) return xNumber ? -1 : 1;
            return string.CompareOrdinal(x, y);
        }
    }
}
