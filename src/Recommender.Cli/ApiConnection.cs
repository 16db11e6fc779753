using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Recommender.Cli;

/// <summary>
/// The recommender HTTP API as the commands that talk to a running cluster reach it (export-events, import-items,
/// import-events): its address and key options, and how an answer of 429 or 503 is waited out.
/// </summary>
internal sealed class ApiConnection : IDisposable
{
    public const string ApiKeyVariable = "RECOMMENDER_API_KEY";

    /// <summary>The longest wait a Retry-After may ask for before the command gives up instead.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private const int MaxTimeoutSeconds = int.MaxValue / 1000;

    private ApiConnection(HttpClient http) => Http = http;

    public HttpClient Http { get; }

    public Uri BaseAddress => Http.BaseAddress!;

    public static Option<string> AddressOption() =>
        new("--api") { Description = "Base address of the recommender HTTP API.", DefaultValueFactory = _ => "http://127.0.0.1:5000" };

    public static Option<string?> KeyOption(string role) => new("--api-key")
    {
        Description = $"{role} of the cluster, when it has keys. Default: the {ApiKeyVariable} environment variable, which keeps the key out of the process list.",
    };

    /// <summary>A client for the API at <paramref name="address"/>, sending <paramref name="key"/> (or the environment's).</summary>
    /// <exception cref="ArgumentException">The address is not http(s), the timeout is out of range, or the key is not printable ASCII.</exception>
    public static ApiConnection Open(string? address, string? key, int timeoutSeconds)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--api '{address}' is not an http(s) address.");
        // HttpClient takes at most int.MaxValue milliseconds (about 24.8 days).
        if (timeoutSeconds is <= 0 or > MaxTimeoutSeconds)
            throw new ArgumentException($"--timeout {timeoutSeconds} must be a number of seconds from 1 to {MaxTimeoutSeconds:N0}.");
        key = (key ?? Environment.GetEnvironmentVariable(ApiKeyVariable))?.Trim();
        // The cluster's key settings are comma-separated lists (no key holds a comma), so a variable filled from the
        // same secret as the front ends' may hold several: the first is sent.
        if (key?.Contains(',') == true) key = key.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        if (key is { Length: > 0 } && key.Any(c => c is <= ' ' or > '~'))
            throw new ArgumentException("the API key holds a character other than printable ASCII; keys are sent in an HTTP header.");
        // Relative paths resolve against the last '/' of the base: "http://host/prefix" must become "http://host/prefix/".
        if (!baseAddress.AbsolutePath.EndsWith('/')) baseAddress = new Uri(baseAddress.GetLeftPart(UriPartial.Path) + "/");
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(timeoutSeconds) };
        if (key is { Length: > 0 }) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new ApiConnection(http);
    }

    /// <summary>
    /// Runs a command's own <paramref name="checks"/> of its options, then opens the connection; an expected failure of
    /// either is written as the command's error and its exit code returned, without a connection.
    /// </summary>
    public static (ApiConnection? Connection, int Exit) OpenChecked(ParseResult parse, Action checks, string? address, string? key, int timeoutSeconds)
    {
        ApiConnection? connection = null;
        var exit = CommandErrors.Guard(parse, () =>
        {
            checks();
            connection = Open(address, key, timeoutSeconds);
            return 0;
        });
        if (exit == 0) return (connection, 0);
        connection?.Dispose();
        return (null, exit);
    }

    /// <summary>
    /// A read of <paramref name="endpoint"/> (sent again as <see cref="SendAsync"/> does); null, with the problem written
    /// to <paramref name="error"/> for <paramref name="operation"/>, when the API refuses it.
    /// </summary>
    public async Task<T?> ReadAsync<T>(string endpoint, int attempts, TextWriter error, string operation, CancellationToken cancellation) where T : class
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, endpoint), attempts, retryLost: true, error,
            HttpCompletionOption.ResponseContentRead, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        if (response.IsSuccessStatusCode) return ReadAnswer<T>(endpoint, response.StatusCode, text);
        await ApiProblem.ReportAsync(this, endpoint, response.StatusCode, text, error, operation);
        return null;
    }

    /// <summary>
    /// Sends the request <paramref name="create"/> makes; an answer of 429 (the rate limit) or 503 (unavailable for
    /// now) is sent again after its Retry-After (1 s without one), up to <paramref name="attempts"/> in all, and so,
    /// when <paramref name="retryLost"/>, is a request that got no answer (refused, cut or timed out), after 1, 2, 4 …
    /// seconds. Only for requests that may be repeated: reads, and writes the API stores once however often they come.
    /// The last answer is returned; a request that never got one throws.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, int attempts, bool retryLost, TextWriter log,
        HttpCompletionOption completion, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            TimeSpan wait;
            string why;
            try
            {
                using var request = create();
                var response = await Http.SendAsync(request, completion, cancellation);
                if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || attempt == attempts)
                    return response;
                wait = response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date - DateTimeOffset.UtcNow) ?? TimeSpan.FromSeconds(1);
                if (wait > MaxRetryAfter) return response;
                why = $"the API answered {(int)response.StatusCode}";
                response.Dispose();
            }
            catch (Exception e) when (retryLost && attempt < attempts && !cancellation.IsCancellationRequested && e is HttpRequestException or TaskCanceledException)
            {
                wait = TimeSpan.FromSeconds(Math.Min(30, 1 << (attempt - 1)));
                why = e is TaskCanceledException ? $"the API did not answer within {Http.Timeout.TotalSeconds:0} s" : $"the request failed ({e.Message})";
            }
            if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
            await log.WriteLineAsync($"{why}; asking again in {wait.TotalSeconds:0.#} s (attempt {attempt + 1} of {attempts})");
            await Task.Delay(wait, cancellation);
        }
    }

    /// <summary>What a request that got no answer (<paramref name="e"/>: refused, cut or timed out) says of the API: "{address} did not answer (why)".</summary>
    public string NoAnswer(Exception e) =>
        $"{BaseAddress} did not answer ({(e is TaskCanceledException ? $"no answer within {Http.Timeout.TotalSeconds:0} s" : e.Message)})";

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    /// <summary>A 2xx answer of <paramref name="endpoint"/> read as the API's; one that is not (a proxy's page, another service) is an error saying so.</summary>
    /// <exception cref="InvalidDataException">The answer is not the API's JSON.</exception>
    public T ReadAnswer<T>(string endpoint, HttpStatusCode status, string text)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, Web) ?? throw new JsonException("null");
        }
        catch (JsonException)
        {
            throw new InvalidDataException($"{BaseAddress}{endpoint} answered {(int)status} with what is not the recommender API's answer: {ApiProblem.Excerpt(text, 200)}");
        }
    }

    public void Dispose() => Http.Dispose();
}
