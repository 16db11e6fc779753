// Serving benchmark for the model registry and recommendation path (loopback only, bounded in time).
//
//   dotnet run deploy/bench/serving-bench.cs -- generate --out DIR --items 100000 --users 2000 --history 50
//   dotnet run deploy/bench/serving-bench.cs -- register --url http://127.0.0.1:5080 --items 100000 --dim 64 --maxlen 200
//   dotnet run deploy/bench/serving-bench.cs -- load --url http://127.0.0.1:5080 --mode cached|recompute|dismiss|writes --seconds 20 --concurrency 8
//   dotnet run deploy/bench/serving-bench.cs -- scan --items 100000 --dim 64 --shards 4
//   dotnet run deploy/bench/serving-bench.cs -- hidden --items 100000 --shards 4 --hidden 10000,100000,300000
//   dotnet run deploy/bench/serving-bench.cs -- boosts --items 25000 --dim 64
//
// generate: a MovieLens-layout seed (items "1".."N", users rating items 1..2000) for Recommender:Seed:Source.
// register: a randomly initialised SASRec (2 blocks) over all N items, exported to ONNX, uploaded and activated.
// load: closed-loop GET /users/{id}/recommendations?k=10 (cached: interest vectors cached after a warm-up read;
//       recompute: a POST /events for the user before every read, so every read re-encodes; dismiss: a dismissal
//       before every read instead, which leaves what the model reads, and so the cached vector, as it was; writes: the
//       POSTs alone, to separate the write path's share). Prints p50/p95/p99 of the timed requests.
// scan: the shard top-K scan in-process (one shard's rows and the whole catalogue) against a sequential read of
//       a large array (the memory bandwidth this machine reaches from one core), and the whole catalogue's scan
//       within a tag held by a share of the rows (--tag-shares 0.05,0.4).
// boosts: one shard's top-10 scan (ItemMatrix.TopK, what a shard runs) plain, with a tag boost (a tenth of the rows),
//       with a freshness boost (every row dated within the last three days), with both, and within a maximum age of
//       six hours (a twelfth of the rows) and of two days (two thirds), and the shard's newest 10 and 100 rows by time
//       (GET /latest), in-process.
// hidden: what one change of the hidden set costs a silo, in-process, for sets of several sizes: the catalogue's
//       snapshot carrying the ids serialised and read back (Orleans' serializer, what a silo fetching it pays besides
//       the network), the silo's set built from them, and every shard mapping it to its rows.
#:property PublishAot=false
#:project ../../src/Recommender.Grains/Recommender.Grains.csproj
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Numerics.Tensors;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Recommender.Abstractions;
using Recommender.Grains.Items;
using Recommender.Grains.Ranking;
using Recommender.Model.Onnx;
using Recommender.Model.Sasrec;

var command = args.Length > 0 ? args[0] : "";
var options = Options.Parse(args.Skip(1).ToArray());
switch (command)
{
    case "generate": Generate(options); break;
    case "register": await Register(options); break;
    case "load": return await Load(options);
    case "scan": Scan(options); break;
    case "hidden": Hidden(options); break;
    case "boosts": Boosts(options); break;
    default:
        Console.Error.WriteLine("usage: serving-bench generate|register|load|scan|hidden [options]");
        return 2;
}
return 0;

static void Generate(Options o)
{
    var dir = o.Get("out");
    Directory.CreateDirectory(dir);
    var items = o.Int("items", 100_000);
    var movies = new StringBuilder("movieId,title,genres\n");
    for (var i = 1; i <= items; i++) movies.Append(CultureInfo.InvariantCulture, $"{i},Item {i},{(i % 2 == 0 ? "Drama" : "Action")}\n");
    File.WriteAllText(Path.Combine(dir, "movies.csv"), movies.ToString());
    var random = new Random(1);
    var ratings = new StringBuilder("userId,movieId,rating,timestamp\n");
    for (var u = 1; u <= o.Int("users", 2000); u++)
    {
        var time = 1_500_000_000L + u;
        for (var e = 0; e < o.Int("history", 50); e++)
            ratings.Append(CultureInfo.InvariantCulture, $"{u},{1 + random.Next(Math.Min(2000, items))},4.0,{time += 60}\n");
    }
    File.WriteAllText(Path.Combine(dir, "ratings.csv"), ratings.ToString());
    Console.WriteLine($"wrote {items} items and {o.Int("users", 2000)} users to {dir}");
}

static async Task Register(Options o)
{
    var items = o.Int("items", 100_000);
    var version = o.Get("version", $"bench-sasrec-{items}-d{o.Int("dim", 64)}");
    var clock = Stopwatch.StartNew();
    var model = new SasRecModel(new SasRecConfig { ItemCount = items, Dimension = o.Int("dim", 64), MaxLength = o.Int("maxlen", 200), Blocks = 2, Heads = 1, FeedForwardDimension = o.Int("dim", 64) }, seed: 3);
    var package = SasRecExporter.Export(model, Enumerable.Range(1, items).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), version, null, null);
    var dir = Path.Combine(Path.GetTempPath(), "serving-bench-package");
    package.Save(dir);
    Console.WriteLine($"built {version} in {clock.ElapsedMilliseconds} ms");
    using var http = new HttpClient { BaseAddress = o.Url, Timeout = TimeSpan.FromMinutes(5) };
    using var form = new MultipartFormDataContent();
    foreach (var (part, file) in new[] { ("manifest", "manifest.json"), ("encoder", "encoder.onnx"), ("embeddings", "item_embeddings.bin") })
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(dir, file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, part, file);
    }
    clock.Restart();
    using (var upload = await http.PostAsync("/models", form))
        Console.WriteLine($"POST /models: {(int)upload.StatusCode} in {clock.ElapsedMilliseconds} ms {(upload.IsSuccessStatusCode ? "" : await upload.Content.ReadAsStringAsync())}");
    clock.Restart();
    using var activate = await http.PostAsync($"/models/{version}/activate", null);
    Console.WriteLine($"POST /models/{version}/activate: {(int)activate.StatusCode} in {clock.ElapsedMilliseconds} ms {await activate.Content.ReadAsStringAsync()}");
    Directory.Delete(dir, recursive: true);
}

static async Task<int> Load(Options o)
{
    if (!o.Url.IsLoopback) throw new ArgumentException($"{o.Url} is not a loopback address.");
    var mode = o.Get("mode", "cached");
    var users = o.Int("users", 2000);
    var items = o.Int("items", 100_000);
    var concurrency = o.Int("concurrency", 8);
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = o.Url, Timeout = TimeSpan.FromSeconds(30) };
    // Warm-up: every user read once, so grains are active and (for "cached") every interest vector is computed.
    await Parallel.ForEachAsync(Enumerable.Range(1, users), new ParallelOptions { MaxDegreeOfParallelism = concurrency },
        async (u, _) => (await http.GetAsync($"/users/{u}/recommendations?k=10")).Dispose());
    var latencies = new List<double>[concurrency];
    var errors = 0;
    long cachedReads = 0;
    var stop = TimeSpan.FromSeconds(o.Int("seconds", 20));
    var clock = Stopwatch.StartNew();
    var sequence = 0L;
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
    {
        var mine = latencies[worker] = [];
        var random = new Random(worker);
        while (clock.Elapsed < stop)
        {
            var user = random.Next(1, users + 1).ToString(CultureInfo.InvariantCulture);
            if (mode == "writes")
            {
                var begun = Stopwatch.GetTimestamp();
                using var write = await http.PostAsJsonAsync("/events", new { userId = user, itemId = random.Next(1, items + 1).ToString(CultureInfo.InvariantCulture), type = "view", eventId = $"bench-{Environment.ProcessId}-{Interlocked.Increment(ref sequence)}" });
                mine.Add(Stopwatch.GetElapsedTime(begun).TotalMilliseconds);
                if (!write.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                continue;
            }
            if (mode is "recompute" or "dismiss")
            {
                using var post = await http.PostAsJsonAsync("/events", new { userId = user, itemId = random.Next(1, items + 1).ToString(CultureInfo.InvariantCulture), type = mode == "dismiss" ? "dismiss" : "view", eventId = $"bench-{Environment.ProcessId}-{Interlocked.Increment(ref sequence)}" });
                if (!post.IsSuccessStatusCode) Interlocked.Increment(ref errors);
            }
            var started = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync($"/users/{user}/recommendations?k=10");
            mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (!response.IsSuccessStatusCode) { Interlocked.Increment(ref errors); continue; }
            if ((await response.Content.ReadAsStringAsync()).Contains("\"cached\":true", StringComparison.Ordinal)) Interlocked.Increment(ref cachedReads);
        }
    }));
    var elapsed = clock.Elapsed.TotalSeconds;
    var all = latencies.SelectMany(l => l).Order().ToArray();
    double P(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"mode={mode} concurrency={concurrency} reads={all.Length} errors={errors} cached={cachedReads} recs/s={all.Length / elapsed:0.0} " +
        $"read p50={P(0.50):0.00}ms p95={P(0.95):0.00}ms p99={P(0.99):0.00}ms"));
    return errors == 0 ? 0 : 1;
}

static void Scan(Options o)
{
    var items = o.Int("items", 100_000);
    var dim = o.Int("dim", 64);
    var shards = o.Int("shards", 4);
    var random = new Random(2);
    var matrix = new float[items * dim];
    for (var i = 0; i < matrix.Length; i++) matrix[i] = (float)random.NextDouble() - 0.5f;
    var query = Enumerable.Range(0, dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    double Time(Action action, int repeats)
    {
        // Enough warm-up calls for the JIT to reach its optimised tier before timing.
        for (var w = 0; w < 60; w++) action();
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < repeats; r++) action();
        return clock.Elapsed.TotalMilliseconds / repeats;
    }
    var shardRows = items / shards;
    var perShard = Time(() => TopKScanner.Scan(matrix, dim, shardRows, query, 10), 200);
    var whole = Time(() => TopKScanner.Scan(matrix, dim, items, query, 10), 50);
    var dotsOnly = Time(() => { for (var r = 0; r < items; r++) TensorPrimitives.Dot(matrix.AsSpan(r * dim, dim), query); }, 50);
    // A list within one tag (tag=, or a slot's tag): the scan restricted to a random set of rows.
    var withinTag = o.Get("tag-shares", "0.05,0.4").Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).Select(share =>
    {
        var tagged = Enumerable.Range(0, items).Where(_ => random.NextDouble() < share).ToHashSet();
        return (share, Ms: Time(() => TopKScanner.Scan(matrix, dim, items, query, 10, allowed: tagged), 50));
    }).ToArray();
    // Far larger than any cache, so this is a read from memory.
    var big = new float[256 * 1024 * 1024];
    Array.Fill(big, 1f);
    var sum = Time(() => TensorPrimitives.Sum(big), 5);
    var bandwidth = big.Length * 4.0 / (sum / 1000) / 1e9;
    var bytes = (double)items * dim * 4;
    var tagText = string.Join(", of ", withinTag.Select(t =>
        string.Create(CultureInfo.InvariantCulture, $"{t.share:P0} of the rows {t.Ms:0.000} ms ({t.Ms / whole:0.00}x the whole catalogue)")));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"catalogue {items}x{dim} float32 = {bytes / 1e6:0.0} MB; shard ({shardRows} rows) top-10 scan {perShard:0.000} ms; whole catalogue {whole:0.000} ms " +
        $"= {bytes / (whole / 1000) / 1e9:0.00} GB/s; dot products alone {dotsOnly:0.000} ms; sequential read (TensorPrimitives.Sum over 1 GiB) {bandwidth:0.00} GB/s " +
        $"-> scan reaches {bytes / (whole / 1000) / 1e9 / bandwidth:P0} of one core's read bandwidth; within a tag of {tagText}"));
}

static void Boosts(Options o)
{
    var items = o.Int("items", 25_000);
    var dim = o.Int("dim", 64);
    var random = new Random(3);
    var matrix = new ItemMatrix(dim, normalise: true);
    var now = DateTimeOffset.UtcNow;
    for (var i = 0; i < items; i++)
        matrix.Upsert($"i{i}", $"Item {i}", [.. Enumerable.Range(0, dim).Select(_ => (float)random.NextDouble() - 0.5f)],
            random.Next(10) == 0 ? ["sale"] : ["other"], now.AddHours(-random.NextDouble() * 72));
    var query = Enumerable.Range(0, dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    const double Temperature = 0.1;
    (string Tag, float Offset)[] saleBoost = [("sale", (float)(Temperature * Math.Log(2)))];
    var fresh = (new Freshness(TimeSpan.FromHours(6), 3), Temperature);
    double Time(Func<ScoredItem[]> scan)
    {
        for (var w = 0; w < 60; w++) scan();
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < 300; r++) scan();
        return clock.Elapsed.TotalMilliseconds / 300;
    }
    // Alternated, three rounds, so that a slow moment of the machine falls on every kind alike.
    var kinds = new (string Name, Func<ScoredItem[]> Scan)[]
    {
        ("plain", () => matrix.TopK(query, 10, [], [], [])),
        ("boost=sale:2", () => matrix.TopK(query, 10, [], [], [], boosts: saleBoost)),
        ("fresh=6h:3", () => matrix.TopK(query, 10, [], [], [], fresh: fresh)),
        ("both", () => matrix.TopK(query, 10, [], [], [], boosts: saleBoost, fresh: fresh)),
        ("maxAge=6h", () => matrix.TopK(query, 10, [], [], [], maxAge: TimeSpan.FromHours(6))),
        ("maxAge=2d", () => matrix.TopK(query, 10, [], [], [], maxAge: TimeSpan.FromDays(2))),
        ("latest k=10", () => matrix.Latest(10, [], [], [])),
        ("latest k=100", () => matrix.Latest(100, [], [], [])),
    };
    var times = kinds.ToDictionary(k => k.Name, _ => new List<double>());
    for (var round = 0; round < 3; round++)
        foreach (var (name, scan) in kinds) times[name].Add(Time(scan));
    var plain = times["plain"].Min();
    var each = kinds.Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Name} {times[k.Name].Min():0.000} ms ({times[k.Name].Min() / plain:0.00}x)"));
    Console.WriteLine($"shard of {items}x{dim}, top-10 (best of three rounds): {string.Join("; ", each)}");
}

static void Hidden(Options o)
{
    var items = o.Int("items", 100_000);
    var shards = o.Int("shards", 4);
    var dim = 64;
    var matrices = Enumerable.Range(0, shards).Select(_ => new ItemMatrix(dim, normalise: false)).ToArray();
    var vector = new float[dim];
    for (var i = 1; i <= items; i++) matrices[i % shards].Upsert(i.ToString(CultureInfo.InvariantCulture), "Item " + i, vector);
    var serializer = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(CatalogueSnapshot).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>();
    double Time(Action action, int repeats)
    {
        for (var w = 0; w < 3; w++) action();
        var clock = Stopwatch.StartNew();
        for (var r = 0; r < repeats; r++) action();
        return clock.Elapsed.TotalMilliseconds / repeats;
    }
    foreach (var size in o.Get("hidden", "10000,100000,300000").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)))
    {
        // A tenth of the hidden ids have a row (items of the catalogue), the rest none (items long retired).
        var ids = Enumerable.Range(0, size).Select(i => i % 10 == 0 ? (1 + i % items).ToString(CultureInfo.InvariantCulture) : $"retired-story-{i:D8}").ToArray();
        var snapshot = new CatalogueSnapshot(1, null, [], true, items, Hidden: ids, HiddenToken: 1);
        byte[] bytes = [];
        var serialise = Time(() => bytes = serializer.SerializeToArray(snapshot), 5);
        var read = Time(() => serializer.Deserialize<CatalogueSnapshot>(bytes), 5);
        HashSet<string> set = [];
        var build = Time(() => set = ids.ToHashSet(StringComparer.Ordinal), 5);
        var map = Time(() => { foreach (var m in matrices) m.SetHidden(set); }, 5);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"hidden={size} snapshot {bytes.Length / 1e6:0.00} MB: serialised {serialise:0.0} ms, read back {read:0.0} ms; set built {build:0.0} ms; " +
            $"{shards} shards of {items / shards} rows mapped {map:0.0} ms; a silo's part {read + build + map:0.0} ms"));
    }
}

sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Expected an option, found '{args[i]}'.");
            values[args[i][2..]] = args[i + 1];
        }
        return new Options(values);
    }

    public string Get(string name, string? fallback = null) =>
        values.TryGetValue(name, out var v) ? v : fallback ?? throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public Uri Url => new(Get("url", "http://127.0.0.1:5080"));
}
