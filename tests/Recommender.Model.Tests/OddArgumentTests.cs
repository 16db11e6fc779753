using System.CommandLine;
using System.Text.RegularExpressions;
using Recommender.Cli;
using Xunit.Abstractions;

namespace Recommender.Model.Tests;

/// <summary>
/// Small, valid inputs for every command of the tool, built once: a sequence file with validation cases, MovieLens
/// files, a trained checkpoint and its exported package, an empty node data directory.
/// </summary>
public sealed class CommandInputs : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public CommandInputs()
    {
        var random = new Random(3);
        var sequences = Enumerable.Range(0, 40).Select(_ => string.Join(' ', Enumerable.Range(0, 10).Select(_ => random.Next(1, 31)))).ToArray();
        _scratch.Write("train.txt", sequences);
        _scratch.Write("val-input.txt", [.. sequences.Take(10).Select(s => s[..s.LastIndexOf(' ')])]);
        _scratch.Write("val-output.txt", [.. sequences.Take(10).Select(s => s[(s.LastIndexOf(' ') + 1)..])]);
        _scratch.Write("movies.csv", ["movieId,title,genres", .. Enumerable.Range(1, 30).Select(m => $"{m},Movie {m} ({1950 + m}),{(m % 2 == 0 ? "Drama" : "Action|Comedy")}")]);
        _scratch.Write("tags.csv", ["userId,movieId,tag,timestamp", "1,1,funny,1000000000", "1,2,dark,1000000001"]);
        _scratch.Write("ratings.csv", ["userId,movieId,rating,timestamp", .. Enumerable.Range(1, 40).SelectMany(u =>
            Enumerable.Range(0, 12).Select(i => $"{u},{1 + (u * 7 + i * 5) % 30},{3 + i % 3},{1_000_000_000 + u * 100 + i}"))]);
        File.WriteAllBytes(_scratch["garbage.bin"], [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37))]);
        File.WriteAllText(_scratch["empty.txt"], "");
        _scratch.Write("events.csv", ["user_id,item_id,event_type,timestamp,event_id,value", "u1,1,view,2024-05-01T12:00:00Z,e1,", "u1,2,rating,2024-05-01T12:01:00Z,e2,4"]);
        _scratch.Write("items.jsonl", ["{\"id\":\"1\",\"title\":\"One\"}", "{\"id\":\"2\",\"title\":\"Two\",\"tags\":[\"a\"]}"]);
        _scratch.Write("scenarios.json", ["{\"home\": {\"cap\": [\"sponsored:2\"]}}"]);
        // A node's data directory as backup and move-to-cluster read it: a SQLite file with the grain-state table (of
        // its columns, only the service matters to them), and no model packages.
        Directory.CreateDirectory(_scratch["node"]);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_scratch["node/recommender.db"]};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = "CREATE TABLE OrleansStorage (GrainIdHash INTEGER NOT NULL, ServiceId TEXT NOT NULL, PayloadBinary BLOB); INSERT INTO OrleansStorage VALUES (1, 'recommender', x'00');";
            create.ExecuteNonQuery();
        }

        var (exit, _, error) = CommandRunner.Run(TrainCommand.Create(), [.. Base["train"].Select(a => a.Replace("OUT", _scratch["run"], StringComparison.Ordinal)), "--export", _scratch["package"]]);
        Assert.True(exit == 0, error);
    }

    public string this[string name] => _scratch[name];

    /// <summary>
    /// A valid command line for each command, of the smallest work; OUT stands for a fresh output path, and a file name
    /// for the file of that name here.
    /// </summary>
    public Dictionary<string, string[]> Base => new()
    {
        ["train"] = ["--train", this["train.txt"], "--format", "sequences", "--out", "OUT", "--val-input", this["val-input.txt"],
            "--val-output", this["val-output.txt"], "--epochs", "1", "--dim", "8", "--max-length", "8", "--batch-size", "8"],
        ["evaluate"] = ["--package", this["package"], "--input", this["val-input.txt"], "--output", this["val-output.txt"]],
        ["baseline"] = ["--data", this["ratings.csv"], "--format", "movielens-csv", "--out", "OUT", "--dimension", "8"],
        ["export"] = ["--checkpoint", Path.Combine(this["run"], "best.model"), "--out", "OUT", "--version", "v1"],
        ["bench-inference"] = ["--items", "40", "--max-length", "8", "--dimension", "8", "--runs", "10"],
        ["export-events"] = ["--api", "http://127.0.0.1:1", "--out", "OUT", "--timeout", "2"],
        ["evaluate-cold-start"] = ["--ratings", this["ratings.csv"], "--movies", this["movies.csv"], "--out", "OUT", "--text-cache",
            this["text-vectors.tsv"], "--epochs", "1", "--dim", "8", "--max-length", "8"],
        ["encode-text"] = ["--movies", this["movies.csv"], "--out", "OUT"],
        ["split"] = ["--data", this["ratings.csv"], "--format", "movielens-csv", "--out", "OUT"],
        ["backup"] = ["--data-directory", this["node"], "--out", "OUT"],
        // No API and no PostgreSQL listen here: every run stops at the latest when they cannot be reached.
        ["import-items"] = ["--file", this["items.jsonl"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["export-items"] = ["--api", "http://127.0.0.1:1", "--out", "OUT", "--timeout", "2"],
        ["delete-items"] = ["--file", this["items.jsonl"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["change-items"] = ["--file", this["items.jsonl"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["remove-events"] = ["--file", this["items.jsonl"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["import-events"] = ["--file", this["events.csv"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["publish"] = ["--package", this["package"], "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2", "--activate"],
        ["delete-models"] = ["--keep", "3", "--prefix", "retrain-", "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["candidate-results"] = ["--version", "v2", "--alpha", "0.05", "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["apply-scenarios"] = ["--file", this["scenarios.json"], "--prune", "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["export-scenarios"] = ["--out", "OUT", "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["scenario-history"] = ["--restore", "3", "--dry-run", "--api", "http://127.0.0.1:1", "--attempts", "1", "--timeout", "2"],
        ["move-to-cluster"] = ["--data-directory", this["node"], "--cluster-data-directory", "OUT", "--connection-string", "Host=127.0.0.1;Port=1;Timeout=2"],
    };

    public void Dispose() => _scratch.Dispose();
}

/// <summary>
/// Every option of every command given each of a set of odd values (empty, negative, zero, a small number, not a
/// number, past every range, a missing file, a directory, a file of the wrong kind), the rest of the command line valid: the run either
/// completes or ends with a message and a non-zero exit code, never with an unhandled exception.
/// </summary>
public sealed partial class OddArgumentTests(CommandInputs inputs, ITestOutputHelper output) : IClassFixture<CommandInputs>
{
    [GeneratedRegex(@"^\s+at \S", RegexOptions.Multiline)]
    private static partial Regex StackFrame();

    private string[] OddValues =>
    [
        "", " ", "-1", "0", "2", "abc", "1e400", "NaN", "-Infinity", "99999999999", "1.5", "-0.5",
        Path.Combine(inputs["missing"], "file"), inputs["node"], inputs["garbage.bin"], inputs["empty.txt"],
    ];

    public static TheoryData<string> Commands => [.. CliCommands.All().Select(c => c.Name)];

    /// <summary>The commands that talk to a running cluster or its database, which the tests here do not start.</summary>
    private static readonly string[] NeedsACluster = ["export-events", "export-items", "import-items", "delete-items", "change-items", "remove-events", "import-events", "move-to-cluster", "publish", "delete-models", "candidate-results", "apply-scenarios", "export-scenarios", "scenario-history"];

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_option_given_an_odd_value_completes_or_fails_with_a_message(string name)
    {
        var options = CommandNamed(name).Options.Where(o => o.Name != "--help").ToList();
        Assert.NotEmpty(options);
        var failures = new List<string>();
        int runs = 0, completed = 0;
        foreach (var option in options)
        {
            IEnumerable<string?> values = option.ValueType == typeof(bool) ? new string?[] { null } : OddValues;
            foreach (var value in values)
            {
                var args = WithOption(BaseLine(name), option.Name, value);
                var (exit, _, error) = CommandRunner.Run(CommandNamed(name), [.. args]);
                runs++;
                if (exit == 0) completed++;
                var line = $"{name} {string.Join(' ', args.Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a))}: exit {exit}";
                if (error.Contains("Unhandled exception", StringComparison.Ordinal) || StackFrame().IsMatch(error))
                    failures.Add($"{line}, a stack trace: {error[..Math.Min(error.Length, 400)]}");
                else if (exit != 0 && string.IsNullOrWhiteSpace(error))
                    failures.Add($"{line} without a message");
            }
        }

        output.WriteLine($"{name}: {runs} runs, {completed} completed");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // The base command line is valid, so some values leave a run that completes; the commands that need a cluster
        // or its database have none here, so none of their runs does.
        Assert.InRange(completed, NeedsACluster.Contains(name) ? 0 : 1, runs - 1);
    }

    [Theory]
    [InlineData("encode-text", "--out")]
    [InlineData("evaluate", "--ranks")]
    [InlineData("evaluate-cold-start", "--text-cache")]
    [InlineData("evaluate-cold-start", "--markdown")]
    [InlineData("export-events", "--out")]
    [InlineData("export-items", "--out")]
    public async Task An_output_file_that_is_a_named_pipe_is_refused_and_left_as_it_was(string name, string option)
    {
        // A device such as /dev/null would fare the same (the check is on the file type); the test makes its own pipe
        // rather than risk the machine's /dev/null.
        var pipe = inputs[$"pipe-{Guid.NewGuid():N}"];
        Assert.Equal(0, Mono.Unix.Native.Syscall.mkfifo(pipe, Mono.Unix.Native.FilePermissions.DEFFILEMODE));
        var args = WithOption(BaseLine(name), option, pipe);

        // A reader end held open (without waiting for a writer), so that a command opening the pipe to write (as it must
        // not) does not block; and the command in a task of its own, since one opening it to read (as it must not either)
        // waits for a writer.
        var reader = Mono.Unix.Native.Syscall.open(pipe, Mono.Unix.Native.OpenFlags.O_RDONLY | Mono.Unix.Native.OpenFlags.O_NONBLOCK);
        Assert.True(reader >= 0);
        var command = CommandNamed(name);
        var run = Task.Run(() => CommandRunner.Run(command, [.. args]));
        var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) == run;
        var type = new Mono.Unix.UnixFileInfo(pipe).FileType;
        // A writer that opens and closes at once releases a command still waiting to read the pipe.
        var writer = Mono.Unix.Native.Syscall.open(pipe, Mono.Unix.Native.OpenFlags.O_WRONLY | Mono.Unix.Native.OpenFlags.O_NONBLOCK);
        if (writer >= 0) Mono.Unix.Native.Syscall.close(writer);
        Mono.Unix.Native.Syscall.close(reader);

        Assert.True(finished, $"{name} {option} blocked on the pipe");
        Assert.Equal(Mono.Unix.FileTypes.Fifo, type);
        var (exit, _, error) = await run;
        Assert.Equal(1, exit);
        Assert.Contains($"{option} '{pipe}' is a named pipe, not a regular file", error);
    }

    private static Command CommandNamed(string name) => CliCommands.All().Single(c => c.Name == name);

    /// <summary>The command's valid base line, with a fresh output path in place of OUT.</summary>
    private List<string> BaseLine(string name)
    {
        var output = inputs[$"out-{Guid.NewGuid():N}"];
        return [.. inputs.Base[name].Select(a => a == "OUT" ? output : a)];
    }

    private static List<string> WithOption(List<string> args, string option, string? value)
    {
        var at = args.IndexOf(option);
        if (at < 0) return [.. args, option, .. value is null ? Array.Empty<string>() : [value]];
        if (value is null) args.RemoveAt(at);
        else args[at + 1] = value;
        return args;
    }

    [Fact]
    public void The_base_command_lines_complete()
    {
        var failures = new List<string>();
        foreach (var name in inputs.Base.Keys.Where(name => !NeedsACluster.Contains(name)))
        {
            var (exit, _, error) = CommandRunner.Run(CommandNamed(name), [.. BaseLine(name)]);
            if (exit != 0) failures.Add($"{name}: exit {exit}: {error}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(CliCommands.All().Select(c => c.Name).Order(), inputs.Base.Keys.Order());
    }
}
