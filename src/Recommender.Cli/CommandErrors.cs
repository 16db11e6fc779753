using System.CommandLine;
using System.Text.Json;
using System.Text.RegularExpressions;
using Recommender.Model;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Spectre.Console;

namespace Recommender.Cli;

/// <summary>
/// The commands' expected failures (bad files, bad ids, bad options, unreadable or unwritable paths) become a one-line
/// message and exit code 1; anything else is a defect and keeps its stack trace.
/// </summary>
internal static class CommandErrors
{
    public static bool IsExpected(Exception e) =>
        e is FileNotFoundException or DirectoryNotFoundException or FormatException or InvalidDataException or ArgumentException or KeyNotFoundException
            or IOException or UnauthorizedAccessException or JsonException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException;

    public static int Run(ParseResult parse, Func<IAnsiConsole, int> action) => Guard(parse, () => action(Console(parse)));

    /// <summary>The command's standard output as a console for tables and progress bars.</summary>
    public static IAnsiConsole Console(ParseResult parse)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(parse.InvocationConfiguration.Output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        console.Profile.Width = Math.Max(console.Profile.Width, 120); // tables stay readable when output is redirected
        return console;
    }

    /// <summary>Runs <paramref name="action"/>; an expected failure becomes "error: message" on standard error and exit code 1.</summary>
    public static int Guard(ParseResult parse, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsExpected(e))
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {Message(e)}");
            return 1;
        }
    }

    /// <summary>The exception's message without the " (Parameter 'x')" an ArgumentException appends, which names code, not input.</summary>
    public static string Message(Exception e) =>
        e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;

    /// <summary>Evaluation cases from a history file and its next-item file; an empty pair is an error, not a score of zero.</summary>
    public static List<EvaluationCase> ReadCases(string inputPath, string outputPath)
    {
        var cases = SequenceFile.ReadEvaluationCases(inputPath, outputPath);
        if (cases.Count == 0) throw new FormatException($"{inputPath} and {outputPath} hold no evaluation cases.");
        return cases;
    }

    /// <summary>The value of a --threads option: 1 to ModelLimits.MaxThreads, refused otherwise rather than quietly changed.</summary>
    public static int ThreadCount(ParseResult parse, Option<int> threads)
    {
        var count = parse.GetValue(threads);
        if (count < 1 || count > ModelLimits.MaxThreads)
            throw new ArgumentException($"{threads.Name} {count} must be between 1 and {ModelLimits.MaxThreads:N0}.");
        return count;
    }

    /// <summary>Fails before any work when <paramref name="path"/> cannot become a directory (an existing file is in the way).</summary>
    public static void CheckDirectoryTarget(string path, string option)
    {
        if (File.Exists(path)) throw new IOException($"{option} '{path}' is a file; it must be a directory (or not exist yet).");
        // Tried now, so that a path that cannot be written fails before the work rather than after it; what the try
        // creates is removed again, since a command that fails writes nothing.
        var missing = new Stack<string>();
        for (var d = Path.GetFullPath(path); !Directory.Exists(d); d = Path.GetDirectoryName(d)!)
        {
            if (File.Exists(d)) throw new IOException($"{option} '{path}' cannot be created: '{d}' is a file.");
            missing.Push(d);
            if (Path.GetDirectoryName(d) is null) break;
        }
        if (missing.Count == 0)
        {
            // An existing directory must take a file.
            try
            {
                using (File.Create(Path.Combine(path, $".write-check-{Guid.NewGuid():N}"), 1, FileOptions.DeleteOnClose)) { }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"{option} '{path}' cannot be written: {e.Message}", e);
            }
            return;
        }
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{option} '{path}' cannot be created: {e.Message}", e);
        }
        finally
        {
            // Innermost first: each was empty when made.
            foreach (var created in missing.Reverse())
                if (Directory.Exists(created)) Directory.Delete(created);
        }
    }

    /// <summary>Largest accepted time limit, in minutes (about 19 years): beyond it a TimeSpan would overflow.</summary>
    public const double MaxMinutes = 10_000_000;

    /// <summary>A time limit in minutes as a TimeSpan; null stays null. Not finite, not above 0 or too large is an error naming the option.</summary>
    public static TimeSpan? Minutes(double? minutes, string option) => minutes switch
    {
        null => null,
        { } m when double.IsFinite(m) && m > 0 && m <= MaxMinutes => TimeSpan.FromMinutes(m),
        { } m => throw new ArgumentException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{option} must be a number of minutes above 0 and at most {MaxMinutes:N0}, not {m}.")),
    };

    /// <summary>
    /// Fails before any work when <paramref name="path"/> cannot become a file: empty, a directory in the way, or an
    /// existing device, pipe or socket (such as /dev/null), which the rename that puts a finished file in place would
    /// replace (for every process on the machine, when run as root).
    /// </summary>
    public static void CheckFileTarget(string path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException($"{option} must name a file, not '{path}'.");
        if (Directory.Exists(path)) throw new IOException($"{option} '{path}' is a directory; it must be a file.");
        if (!OperatingSystem.IsWindows() && new Mono.Unix.UnixFileInfo(path) is { Exists: true, FileType: var type } && type != Mono.Unix.FileTypes.RegularFile)
            throw new IOException($"{option} '{path}' is a {Describe(type)}, not a regular file: outputs are written to regular files only.");
    }

    internal static string Describe(Mono.Unix.FileTypes type) => type switch
    {
        Mono.Unix.FileTypes.CharacterDevice => "character device",
        Mono.Unix.FileTypes.BlockDevice => "block device",
        Mono.Unix.FileTypes.Fifo => "named pipe",
        Mono.Unix.FileTypes.Socket => "socket",
        _ => type.ToString(),
    };

    /// <summary>
    /// Runs a library validation and rethrows its complaint with the command's flags in place of the property names
    /// the library uses (Dimension becomes --dim), so the message speaks of what the user typed.
    /// </summary>
    public static void InFlagTerms(Action validate, IReadOnlyDictionary<string, string> flagOf) =>
        InFlagTerms(() => { validate(); return true; }, flagOf);

    /// <summary>As <see cref="InFlagTerms(Action, IReadOnlyDictionary{string, string})"/>, for a constructor that validates.</summary>
    public static T InFlagTerms<T>(Func<T> create, IReadOnlyDictionary<string, string> flagOf)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            var names = new Regex($@"\b({string.Join('|', flagOf.Keys.Select(Regex.Escape))})\b", RegexOptions.CultureInvariant);
            throw new ArgumentException(names.Replace(e.Message, m => flagOf[m.Value]), e);
        }
    }
}
