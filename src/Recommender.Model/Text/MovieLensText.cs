using System.Security.Cryptography;
using System.Text;
using Recommender.Model.Data;

namespace Recommender.Model.Text;

/// <summary>
/// Item text for MovieLens: movies.csv (movieId,title,genres) and optionally tags.csv (userId,movieId,tag,timestamp)
/// composed with <see cref="ItemText"/> as "{title}. {genres joined by ', '}. Tags: {tags, most used first}".
/// </summary>
public static class MovieLensText
{
    private const string MoviesHeader = "movieId,title,genres";
    private const string TagsHeader = "userId,movieId,tag,timestamp";
    private const string NoGenres = "(no genres listed)";

    /// <summary>External movie id → composed text, for every movie in movies.csv.</summary>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="FormatException">A line is malformed (file:line named).</exception>
    public static IReadOnlyDictionary<string, string> Compose(string moviesPath, string? tagsPath)
    {
        var tags = tagsPath is null ? new Dictionary<string, List<string>>() : ReadTags(tagsPath);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (lineNumber, fields) in ReadCsv(moviesPath, MoviesHeader, 3))
        {
            var id = fields[0].Trim();
            if (id.Length == 0) throw new FormatException($"{moviesPath}:{lineNumber}: the movie id is empty.");
            var genres = fields[2].Trim() == NoGenres ? "" : string.Join(", ", fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var text = ItemText.Compose(fields[1], genres, tags.GetValueOrDefault(id));
            if (!texts.TryAdd(id, text)) throw new FormatException($"{moviesPath}:{lineNumber}: movie '{id}' appears twice.");
        }
        return texts;
    }

    /// <summary>Encodes the texts (all of them, in batches) into <see cref="TextVectors"/> keyed by the same ids.</summary>
    public static TextVectors Encode(IReadOnlyDictionary<string, string> texts, SentenceTextEncoder encoder, CancellationToken ct = default)
    {
        var ids = texts.Keys.Order(ExternalIdComparer.Instance).ToArray();
        var vectors = encoder.Encode(ids.Select(id => texts[id]).ToArray(), ct);
        var byId = new Dictionary<string, float[]>(ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++) byId[ids[i]] = vectors[i];
        return new TextVectors(SentenceTextEncoder.ModelName, SentenceTextEncoder.Dimension, ItemText.Template, byId);
    }

    /// <summary>
    /// The text vectors of the movies, read from <paramref name="cachePath"/> when it was written for exactly these texts
    /// and this encoder, otherwise encoded and written there.
    /// </summary>
    public static (TextVectors Vectors, bool FromCache) LoadOrEncode(string moviesPath, string? tagsPath, string cachePath, int threads, CancellationToken ct = default)
    {
        var texts = Compose(moviesPath, tagsPath);
        var fingerprint = Fingerprint(texts);
        if (File.Exists(cachePath))
        {
            try
            {
                var cached = TextVectorFile.Read(cachePath, out var source);
                if (source == fingerprint && cached.Encoder == SentenceTextEncoder.ModelName && cached.Dimension == SentenceTextEncoder.Dimension)
                    return (cached, true);
            }
            catch (FormatException)
            {
                // A damaged cache is rebuilt below.
            }
        }
        using var encoder = new SentenceTextEncoder(threads);
        var vectors = Encode(texts, encoder, ct);
        TextVectorFile.Write(cachePath, vectors, fingerprint);
        return (vectors, false);
    }

    /// <summary>A short hash of the encoder name and every (id, text) pair: a cache written for other texts does not match.</summary>
    public static string Fingerprint(IReadOnlyDictionary<string, string> texts)
    {
        var builder = new StringBuilder(SentenceTextEncoder.ModelName).Append('\n');
        foreach (var id in texts.Keys.Order(StringComparer.Ordinal)) builder.Append(id).Append('\t').Append(texts[id]).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())))[..16];
    }

    /// <summary>Movie id → distinct tags (case-insensitive), most used first, ties in first-seen order.</summary>
    private static Dictionary<string, List<string>> ReadTags(string path)
    {
        var counts = new Dictionary<string, Dictionary<string, (string Spelling, int Count, int First)>>(StringComparer.Ordinal);
        var ordinal = 0;
        foreach (var (lineNumber, fields) in ReadCsv(path, TagsHeader, 4))
        {
            var id = fields[1].Trim();
            var tag = fields[2].Trim();
            if (id.Length == 0) throw new FormatException($"{path}:{lineNumber}: the movie id is empty.");
            if (tag.Length == 0) continue;
            if (!counts.TryGetValue(id, out var forMovie)) counts[id] = forMovie = new Dictionary<string, (string, int, int)>(StringComparer.OrdinalIgnoreCase);
            forMovie[tag] = forMovie.TryGetValue(tag, out var seen) ? seen with { Count = seen.Count + 1 } : (tag, 1, ordinal++);
        }
        return counts.ToDictionary(p => p.Key,
            p => p.Value.Values.OrderByDescending(t => t.Count).ThenBy(t => t.First).Select(t => t.Spelling).ToList(), StringComparer.Ordinal);
    }

    private static IEnumerable<(int Line, IReadOnlyList<string> Fields)> ReadCsv(string path, string header, int columns)
    {
        // CsvRecordReader.Read checks that the file exists.
        foreach (var record in CsvRecordReader.Read(path))
        {
            if (record.Line == 1)
            {
                var found = string.Join(',', record.Fields);
                if (found.Trim().TrimStart('\uFEFF') != header) throw new FormatException($"{path}:1: expected the header '{header}', found '{InputFile.Excerpt(found)}'.");
                continue;
            }
            if (record.Blank) continue;
            if (record.Fields.Count != columns) throw new FormatException($"{path}:{record.Line}: expected {columns} fields ({header}), found {record.Fields.Count}.");
            yield return (record.Line, record.Fields);
        }
    }
}
