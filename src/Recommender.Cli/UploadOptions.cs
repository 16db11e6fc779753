using System.CommandLine;

namespace Recommender.Cli;

/// <summary>The options every import command has (where the API is, its key, batch size, timeout, attempts) and the upload they make.</summary>
internal sealed class UploadOptions(string noun, int maxBatch, int timeoutSeconds, string timeoutNote = "", string keyRole = "A client API key (Recommender:ApiKeys:Client)")
{
    public Option<string> Api { get; } = ApiConnection.AddressOption();

    public Option<string?> ApiKey { get; } = ApiConnection.KeyOption(keyRole);

    public Option<int> BatchSize { get; } = new("--batch-size")
    {
        Description = $"{char.ToUpperInvariant(noun[0])}{noun[1..]} a request, 1 to {maxBatch:N0} (fewer when their JSON would pass 1 MB).",
        DefaultValueFactory = _ => maxBatch,
    };

    public Option<int> Timeout { get; } = new("--timeout") { Description = $"Seconds to wait for the answer to one request{timeoutNote}.", DefaultValueFactory = _ => timeoutSeconds };

    public Option<int> Attempts { get; } = new("--attempts") { Description = "Attempts a request, 1 to 100, while the cluster answers 429 or 503 or not at all.", DefaultValueFactory = _ => 5 };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Api, ApiKey, BatchSize, Timeout, Attempts }) command.Options.Add(option);
    }

    /// <summary>
    /// Checks the options and reads the file (<paramref name="read"/>, which refuses a malformed one) before anything is
    /// sent, then uploads it to <paramref name="endpoint"/>; <paramref name="stored"/> reads each answer and
    /// <paramref name="summary"/> says what was stored. Returns the exit code.
    /// </summary>
    public async Task<int> RunAsync<T>(ParseResult parse, string endpoint, string file, Func<T> read, Func<T, (IEnumerable<UploadRow> Rows, int Count)> rows,
        Action<System.Text.Json.JsonElement> stored, Func<string> summary, CancellationToken cancellation, HttpMethod? method = null)
    {
        var (connection, content, refused) = Open(parse, read);
        if (connection is null) return refused;
        using var client = connection;
        return await UploadAsync(parse, client, endpoint, file, rows(content), stored, summary, cancellation, method);
    }

    /// <summary>Checks the options and reads the file (<paramref name="read"/>); the connection, or none and the exit code of what was refused.</summary>
    public (ApiConnection? Connection, T Content, int Exit) Open<T>(ParseResult parse, Func<T> read)
    {
        ApiConnection? connection = null;
        T content = default!;
        if (CommandErrors.Guard(parse, () =>
            {
                var batchSize = parse.GetValue(BatchSize);
                if (batchSize < 1 || batchSize > maxBatch) throw new ArgumentException($"--batch-size {batchSize} must be between 1 and {maxBatch:N0}.");
                if (parse.GetValue(Attempts) is < 1 or > 100) throw new ArgumentException($"--attempts {parse.GetValue(Attempts)} must be between 1 and 100.");
                connection = ApiConnection.Open(parse.GetValue(Api), parse.GetValue(ApiKey), parse.GetValue(Timeout));
                content = read();
                return 0;
            }) is not 0 and var refused)
        {
            connection?.Dispose();
            return (null, content, refused);
        }
        return (connection, content, 0);
    }

    /// <summary>Uploads <paramref name="rows"/> to <paramref name="endpoint"/> over an open connection; the exit code.</summary>
    public async Task<int> UploadAsync(ParseResult parse, ApiConnection client, string endpoint, string file, (IEnumerable<UploadRow> Rows, int Count) rows,
        Action<System.Text.Json.JsonElement> stored, Func<string> summary, CancellationToken cancellation, HttpMethod? method = null)
    {
        var console = CommandErrors.Console(parse);
        var exit = await new BatchUpload(client, endpoint, file, parse.GetValue(BatchSize), parse.GetValue(Attempts), method ?? HttpMethod.Post)
            .RunAsync(console, parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, rows.Rows, rows.Count, noun, stored, cancellation);
        if (exit == 0) parse.InvocationConfiguration.Output.WriteLine(summary());
        return exit;
    }
}
