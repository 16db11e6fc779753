using System.Text;
using System.Text.Json;

namespace Recommender.Model.Data;

/// <summary>One object of a JSON-lines file and the line it is on.</summary>
public readonly record struct JsonLine(int Line, JsonElement Value);

/// <summary>A file of UTF-8 JSON lines, each one object; blank lines are skipped.</summary>
public static class JsonLinesFile
{
    /// <summary>Whether the file's first non-blank character opens a JSON object (a JSON-lines file rather than a CSV).</summary>
    public static bool LooksLikeJsonLines(string path)
    {
        InputFile.Require(path, "File");
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int next;
        while ((next = reader.Read()) >= 0 && char.IsWhiteSpace((char)next)) { }
        return next == '{';
    }

    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">A line is not valid UTF-8 or not a JSON object ("path:line: …"); <paramref name="what"/> names the object.</exception>
    public static IEnumerable<JsonLine> Read(string path, string what)
    {
        InputFile.Require(path, "File");
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        var number = 0;
        while (ReadLine(reader, path, number + 1) is { } line)
        {
            number++;
            if (!string.IsNullOrWhiteSpace(line)) yield return new JsonLine(number, Parse(path, number, line, what));
        }
    }

    private static string? ReadLine(StreamReader reader, string path, int number)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"{path}:{number}: not valid UTF-8.");
        }
    }

    private static JsonElement Parse(string path, int number, string line, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}:{number}: not a JSON object: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new FormatException($"{path}:{number}: {what} must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            return document.RootElement.Clone();
        }
    }
}
