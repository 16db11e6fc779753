using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>Checks on files the library reads, so that an error says what is wrong with the path and a bad line stays readable.</summary>
public static class InputFile
{
    /// <summary>Throws unless <paramref name="path"/> is an existing file; <paramref name="what"/> names it in the message, e.g. "Interaction file".</summary>
    /// <exception cref="FileNotFoundException">The path does not exist, or is a directory.</exception>
    public static void Require(string path, string what)
    {
        if (File.Exists(path)) return;
        if (Directory.Exists(path)) throw new FileNotFoundException($"{what} '{path}' is a directory, not a file.", path);
        throw new FileNotFoundException($"{what} '{path}' does not exist.", path);
    }

    /// <summary>The start of a line quoted in an error message: a whole line of a data file can run to many kilobytes.</summary>
    public static string Excerpt(string line, int length = 80) =>
        line.Length <= length ? line : string.Concat(line.AsSpan(0, length), string.Create(CultureInfo.InvariantCulture, $"… ({line.Length:N0} characters)"));
}
