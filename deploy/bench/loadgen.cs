// Closed-loop HTTP load generator for the recommendation API (loopback only, bounded in time).
//
//   dotnet run deploy/bench/loadgen.cs -- --url http://127.0.0.1:5001 --mode reads --seconds 20 --concurrency 16
//
// Modes: "reads" (GET /users/{id}/recommendations?k=10), "writes" (POST /events, one event each), "batches"
// (POST /events, --batch-events events spread over --batch-users distinct users each, which the event journal stores
// whole before writing the users' histories) or "sessions" (POST /recommendations with --session-items random items,
// each session sent --session-lists times in a row, as a page showing that many lists would, asking k=10, 20 and 5 in
// turn; a silo encodes a session once and keeps its vector for the repeats) or "puts" (PUT /items/{id}, a new item
// with a title, a sentence of text and a tag each, whose text the node encodes before it answers).
// Users are the demo's ("1".."N"); write targets are items seen in warm-up recommendations.
// Prints one line: mode, requests, errors, throughput, p50/p90/p99 latency in ms (and events/s for batches).
#:property PublishAot=false
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

var options = Options.Parse(args);
foreach (var url in options.Urls)
{
    if (!url.IsLoopback) throw new ArgumentException($"{url} is not a loopback address; this tool only targets this machine.");
}
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
var items = await WarmUp(http, options);
var latencies = new List<double>[options.Concurrency];
var errors = 0;
var deadline = Stopwatch.StartNew();
var stop = TimeSpan.FromSeconds(options.Seconds);
var sequence = 0L;
await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async worker =>
{
    var mine = latencies[worker] = new List<double>();
    var random = new Random(worker);
    object Session() => new { items = Enumerable.Range(0, options.SessionItems).Select(_ => items[random.Next(items.Count)]).ToArray() };
    int[] listSizes = [10, 20, 5];
    var (session, list) = (Session(), 0);
    while (deadline.Elapsed < stop)
    {
        var url = options.Urls[random.Next(options.Urls.Count)];
        var user = random.Next(1, options.Users + 1).ToString();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = options.Mode switch
            {
                "writes" => await http.PostAsJsonAsync(new Uri(url, "/events"), Event(user)),
                "batches" => await http.PostAsJsonAsync(new Uri(url, "/events"), Batch()),
                "sessions" => await http.PostAsJsonAsync(new Uri(url, $"/recommendations?k={listSizes[list % listSizes.Length]}"), session),
                "puts" => await http.PutAsJsonAsync(new Uri(url, $"/items/bench-{Environment.ProcessId}-{Interlocked.Increment(ref sequence)}"), NewItem()),
                _ => await http.GetAsync(new Uri(url, $"/users/{user}/recommendations?k=10")),
            };
            // A batch answered 202 is stored whole; some users' histories are written by the journal's retries.
            if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            if (options.Mode == "sessions" && ++list == options.SessionLists) (session, list) = (Session(), 0);
        }
        catch (HttpRequestException)
        {
            Interlocked.Increment(ref errors);
        }

        object Event(string userId) => new
        {
            userId,
            itemId = items[random.Next(items.Count)],
            type = "view",
            eventId = $"bench-{Environment.ProcessId}-{Interlocked.Increment(ref sequence)}",
        };

        object[] Batch()
        {
            var batchUsers = new HashSet<string>();
            while (batchUsers.Count < Math.Min(options.BatchUsers, options.Users)) batchUsers.Add(random.Next(1, options.Users + 1).ToString());
            var ids = batchUsers.ToArray();
            return Enumerable.Range(0, options.BatchEvents).Select(i => Event(ids[i % ids.Length])).ToArray();
        }
        object NewItem()
        {
            string[] words = ["adventure", "friendship", "space", "mystery", "family", "war", "music", "island"];
            return new
            {
                title = $"Bench item {random.Next(100_000)} ({1950 + random.Next(70)})",
                text = "A story of " + string.Join(" and ", Enumerable.Range(0, 4).Select(_ => words[random.Next(words.Length)])) + ".",
                tags = new[] { words[random.Next(words.Length)] },
            };
        }

        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}));
var elapsed = deadline.Elapsed.TotalSeconds;
var all = latencies.SelectMany(l => l).Order().ToArray();
double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
Console.WriteLine(
    $"mode={options.Mode} fronts={options.Urls.Count} concurrency={options.Concurrency} requests={all.Length} errors={errors} " +
    $"throughput={all.Length / elapsed:0.0}/s p50={Percentile(0.50):0.0}ms p90={Percentile(0.90):0.0}ms p99={Percentile(0.99):0.0}ms" +
    (options.Mode == "batches" ? $" events={all.Length * options.BatchEvents / elapsed:0.0}/s batch={options.BatchEvents}x{options.BatchUsers}" : ""));
return errors == 0 ? 0 : 1;

static async Task<List<string>> WarmUp(HttpClient http, Options options)
{
    var items = new HashSet<string>();
    for (var user = 1; user <= Math.Min(options.Users, 20); user++)
    {
        using var response = await http.GetAsync(new Uri(options.Urls[0], $"/users/{user}/recommendations?k=10"));
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var item in document.RootElement.GetProperty("items").EnumerateArray())
            items.Add(item.GetProperty("id").GetString()!);
    }
    if (items.Count == 0) throw new InvalidOperationException("Warm-up found no recommendable items: is the demo catalogue loaded?");
    return [.. items];
}

sealed record Options(List<Uri> Urls, string Mode, int Seconds, int Concurrency, int Users, int BatchEvents, int BatchUsers, int SessionItems, int SessionLists)
{
    public static Options Parse(string[] args)
    {
        var urls = new List<Uri>();
        string mode = "reads";
        int seconds = 20, concurrency = 16, users = 600, batchEvents = 20, batchUsers = 5, sessionItems = 20, sessionLists = 1;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i++])
            {
                case "--url": urls.Add(new Uri(value)); break;
                case "--mode": mode = value is "reads" or "writes" or "batches" or "sessions" or "puts" ? value : throw new ArgumentException("--mode is reads, writes, batches, sessions or puts."); break;
                case "--seconds": seconds = Math.Clamp(int.Parse(value), 1, 300); break;
                case "--concurrency": concurrency = Math.Clamp(int.Parse(value), 1, 256); break;
                case "--users": users = Math.Max(1, int.Parse(value)); break;
                case "--batch-events": batchEvents = Math.Clamp(int.Parse(value), 1, 1000); break;
                case "--batch-users": batchUsers = Math.Clamp(int.Parse(value), 1, 1000); break;
                case "--session-items": sessionItems = Math.Clamp(int.Parse(value), 1, 1000); break;
                case "--session-lists": sessionLists = Math.Clamp(int.Parse(value), 1, 100); break;
                default: throw new ArgumentException($"Unknown option {args[i - 1]}.");
            }
        }
        if (urls.Count == 0) urls.Add(new Uri("http://127.0.0.1:5001"));
        if (batchUsers > batchEvents) throw new ArgumentException("--batch-users cannot exceed --batch-events.");
        return new Options(urls, mode, seconds, concurrency, users, batchEvents, batchUsers, sessionItems, sessionLists);
    }
}
