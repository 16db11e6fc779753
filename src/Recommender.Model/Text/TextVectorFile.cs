using System.Globalization;
using System.Text;
using Recommender.Model.Data;

namespace Recommender.Model.Text;

/// <summary>
/// Frozen text vectors keyed by external item id, with the encoder and template that produced them, and optionally the
/// digest of each item's text (<see cref="TextDigest"/>), by which a later encoding reuses the vector of a text it has
/// seen before.
/// </summary>
public sealed record TextVectors(string Encoder, int Dimension, string? Template, IReadOnlyDictionary<string, float[]> Vectors,
    IReadOnlyDictionary<string, string>? TextDigests = null)
{
    /// <summary>The digest of a composed text: 128 bits of its UTF-8 SHA-256, in lower-case hex.</summary>
    public static string TextDigest(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    /// <summary>
    /// Row-major [itemIds.Count, Dimension] in the given (dense) order; an item without a vector gets a zero row and is
    /// counted in <paramref name="missing"/>.
    /// </summary>
    public float[] ForItems(IReadOnlyList<string> itemIds, out int missing)
    {
        var result = new float[itemIds.Count * Dimension];
        missing = 0;
        for (var i = 0; i < itemIds.Count; i++)
        {
            if (Vectors.TryGetValue(itemIds[i], out var vector)) vector.CopyTo(result, i * Dimension);
            else missing++;
        }
        return result;
    }
}

/// <summary>
/// Reads and writes text vectors as UTF-8 text:
/// <code>
/// #text-vectors encoder=all-MiniLM-L6-v2 dimension=384 [source=…] [digests=sha256] [template=…]
/// &lt;item id&gt;\t&lt;v1&gt; &lt;v2&gt; … &lt;vDimension&gt;[\t&lt;text digest&gt;]
/// </code>
/// The header is one line of space-separated key=value pairs; template, if present, is last and runs to the end of
/// the line. Each further line is an external item id, a tab, and Dimension invariant-culture floats separated by
/// single spaces, then, when the header says digests=sha256, a tab and the digest of the item's text
/// (<see cref="TextVectors.TextDigest"/>). Ids are unique; blank lines are ignored. Vectors are used as given (the
/// sentence encoder writes unit vectors).
/// </summary>
public static class TextVectorFile
{
    public const string Magic = "#text-vectors";

    /// <summary>The header's value of digests= for the per-line text digests.</summary>
    public const string DigestKind = "sha256";

    /// <summary>Writes the file; <paramref name="source"/> is an optional fingerprint of the texts (used to validate a cache).</summary>
    public static void Write(string path, TextVectors vectors, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary, false, new UTF8Encoding(false)))
        {
            var header = new StringBuilder($"{Magic} encoder={vectors.Encoder} dimension={vectors.Dimension.ToString(CultureInfo.InvariantCulture)}");
            if (source is not null) header.Append(" source=").Append(source);
            if (vectors.TextDigests is not null) header.Append(" digests=").Append(DigestKind);
            if (vectors.Template is not null) header.Append(" template=").Append(vectors.Template);
            writer.WriteLine(header.ToString());
            var line = new StringBuilder();
            foreach (var (id, vector) in vectors.Vectors.OrderBy(p => p.Key, Data.ExternalIdComparer.Instance))
            {
                if (id.Length == 0 || id.AsSpan().IndexOfAny("\t\r\n") >= 0) throw new ArgumentException($"Item id '{id}' cannot be written: it is empty or holds a tab or line break.", nameof(vectors));
                if (vector.Length != vectors.Dimension) throw new ArgumentException($"Item '{id}' has a {vector.Length}-dimensional vector; the file says {vectors.Dimension}.", nameof(vectors));
                line.Clear().Append(id).Append('\t');
                for (var k = 0; k < vector.Length; k++)
                {
                    if (k > 0) line.Append(' ');
                    line.Append(vector[k].ToString("R", CultureInfo.InvariantCulture));
                }
                if (vectors.TextDigests is not null)
                    line.Append('\t').Append(vectors.TextDigests.TryGetValue(id, out var digest) ? digest
                        : throw new ArgumentException($"Item '{id}' has no text digest, though the others have.", nameof(vectors)));
                writer.WriteLine(line.ToString());
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Write"/> (or by hand in the same format).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is malformed; the message names file:line and the problem.</exception>
    public static TextVectors Read(string path) => Read(path, out _);

    public static TextVectors Read(string path, out string? source)
    {
        InputFile.Require(path, "Item text vector file");
        using var reader = new StreamReader(path, Encoding.UTF8);
        var header = reader.ReadLine() ?? throw new FormatException($"{path}:1: the file is empty; expected the header '{Magic} encoder=… dimension=…'.");
        var (encoder, dimension, template, fingerprint, hasDigests) = ParseHeader(path, header);
        source = fingerprint;
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var digests = hasDigests ? new Dictionary<string, string>(StringComparer.Ordinal) : null;
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var tab = line.IndexOf('\t');
            if (tab <= 0) throw new FormatException($"{path}:{lineNumber}: expected '<item id><TAB><{dimension} numbers>'.");
            var id = line[..tab];
            var numbers = line[(tab + 1)..];
            if (digests is not null)
            {
                var last = numbers.LastIndexOf('\t');
                if (last < 0 || numbers.Length - last - 1 != 32 || !numbers[(last + 1)..].All(char.IsAsciiHexDigitLower))
                    throw new FormatException($"{path}:{lineNumber}: item '{id}' lacks its text digest (a tab and 32 lower-case hex digits after the numbers), which the header announces.");
                digests[id] = numbers[(last + 1)..];
                numbers = numbers[..last];
            }
            var values = numbers.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (values.Length != dimension)
                throw new FormatException($"{path}:{lineNumber}: item '{id}' has {values.Length} values; the header says dimension {dimension}.");
            var vector = new float[dimension];
            for (var k = 0; k < dimension; k++)
                if (!float.TryParse(values[k], NumberStyles.Float, CultureInfo.InvariantCulture, out vector[k]) || !float.IsFinite(vector[k]))
                    throw new FormatException($"{path}:{lineNumber}: value {k + 1} of item '{id}' ('{values[k]}') is not a finite number.");
            if (!vectors.TryAdd(id, vector)) throw new FormatException($"{path}:{lineNumber}: item '{id}' appears twice.");
        }
        return new TextVectors(encoder, dimension, template, vectors, digests);
    }

    private static (string Encoder, int Dimension, string? Template, string? Source, bool Digests) ParseHeader(string path, string header)
    {
        if (!header.StartsWith(Magic + " ", StringComparison.Ordinal))
            throw new FormatException($"{path}:1: expected the header '{Magic} encoder=… dimension=…', found '{Truncate(header)}'.");
        string? encoder = null, template = null, source = null;
        var digests = false;
        int? dimension = null;
        var rest = header[(Magic.Length + 1)..];
        while (rest.Length > 0)
        {
            rest = rest.TrimStart(' ');
            if (rest.StartsWith("template=", StringComparison.Ordinal)) { template = rest["template=".Length..]; break; }
            var end = rest.IndexOf(' ');
            var pair = end < 0 ? rest : rest[..end];
            rest = end < 0 ? "" : rest[end..];
            var equals = pair.IndexOf('=');
            if (equals <= 0) throw new FormatException($"{path}:1: header field '{pair}' is not key=value.");
            var (key, value) = (pair[..equals], pair[(equals + 1)..]);
            switch (key)
            {
                case "encoder": encoder = value; break;
                case "source": source = value; break;
                case "digests":
                    if (value != DigestKind) throw new FormatException($"{path}:1: digests '{value}' is not known (expected {DigestKind}).");
                    digests = true;
                    break;
                case "dimension":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var d) || d <= 0)
                        throw new FormatException($"{path}:1: dimension '{value}' is not a positive integer.");
                    dimension = d;
                    break;
                default: throw new FormatException($"{path}:1: unknown header field '{key}' (expected encoder, dimension, source, digests, template).");
            }
        }
        if (string.IsNullOrEmpty(encoder)) throw new FormatException($"{path}:1: the header names no encoder (encoder=…).");
        if (dimension is null) throw new FormatException($"{path}:1: the header gives no dimension (dimension=…).");
        return (encoder, dimension.Value, template, source, digests);
    }

    private static string Truncate(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
