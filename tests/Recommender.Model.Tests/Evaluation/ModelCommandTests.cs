using System.CommandLine;
using Recommender.Cli;
using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Evaluation;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;
using Recommender.Model.Tests.Data;
using Recommender.Model.Text;

namespace Recommender.Model.Tests.Evaluation;

public sealed class ModelCommandTests : IDisposable
{
    private readonly string _directory = SharedData.TempDirectory();

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Exit, string Output, string Error) Invoke(Command command, params string[] args) =>
        CommandRunner.Run(command, args);

    /// <summary>Runs a command that must fail with exit code 1 and returns what it wrote to standard error.</summary>
    private static string Fails(Command command, params string[] args)
    {
        var (exit, _, error) = Invoke(command, args);
        Assert.True(exit == 1, $"expected exit code 1, got {exit}; stderr: {error}");
        return error;
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    /// <summary>A small package over items 1..6 whose users alternate between two item groups.</summary>
    private string SmallPackage()
    {
        var sequences = Enumerable.Range(0, 60).Select(u => u % 2 == 0 ? new[] { 1, 2, 3, 1, 2, 3 } : [4, 5, 6, 4, 5, 6]).ToList();
        var directory = Path.Combine(_directory, "package");
        RecencyMeanModel.Build(new SequenceDataset(sequences, SequenceDataset.IdentityVocabulary(6)), "small", dimension: 4, maxLength: 8).Save(directory);
        return directory;
    }

    [Fact]
    public void Evaluate_prints_the_model_and_baselines()
    {
        var package = SmallPackage();
        var input = Write("input.txt", "1 2\n4 5\n1 2 3\n");
        var output = Write("output.txt", "3\n6\n1\n");
        var (exit, text, error) = Invoke(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--baselines");
        Assert.True(exit == 0, error);
        Assert.Contains("recency-mean (small)", text);
        Assert.Contains("most-popular", text);
        Assert.Contains("markov", text);
        Assert.Contains("NDCG@10", text);
        (exit, text, error) = Invoke(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--protocol", "sampled");
        Assert.True(exit == 0, error);
        Assert.Contains("sampled negatives", text);
    }

    [Fact]
    public void Evaluate_writes_each_cases_rank_per_model_and_refuses_a_ranks_path_it_cannot_write()
    {
        var package = SmallPackage();
        var input = Write("input.txt", "1 2\n4 5\n1 2 3\n");
        var output = Write("output.txt", "3\n6\n1\n");
        var train = Write("train.txt", "1 2 3 1 2 3\n4 5 6 4 5 6\n");
        var ranks = Path.Combine(_directory, "ranks.csv");
        var (exit, text, error) = Invoke(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--baselines", "--train", train, "--ranks", ranks);
        Assert.True(exit == 0, error);
        Assert.Contains("wrote the ranks of 3 cases", text);
        var lines = File.ReadAllLines(ranks);
        Assert.Equal("line,recency-mean (small),most-popular,markov", lines[0]);
        Assert.Equal(4, lines.Length);
        var rows = lines[1..].Select(l => l.Split(',').Select(int.Parse).ToArray()).ToArray();
        Assert.Equal([1, 2, 3], rows.Select(r => r[0]));
        // The model's column is what the evaluator ranks through ONNX Runtime for the same cases.
        var loaded = ModelPackage.Load(package);
        using (var encoder = new OnnxEncoder(loaded, new OnnxThreading(1)))
        {
            var scorer = new EmbeddingScorer("model", encoder.Encode, loaded.ItemEmbeddings, loaded.Manifest.Dimension);
            var cases = new List<EvaluationCase> { new([1, 2], 3), new([4, 5], 6), new([1, 2, 3], 1) };
            Assert.Equal(RankingEvaluator.Ranks(scorer, cases, RankingProtocol.Full), rows.Select(r => r[1]));
        }
        // Learning from train.txt, Markov follows the last item: after 2 comes 3, after 5 comes 6, after 3 comes 1.
        // Most-popular ties all six items (two events each) and ties count against the target: it is last among
        // the three other unseen items.
        Assert.Equal([0, 0, 0], rows.Select(r => r[3]));
        Assert.Equal([3, 3, 3], rows.Select(r => r[2]));
        Assert.False(File.Exists(ranks + ".tmp"));

        var nowhere = Path.Combine(_directory, "no-such-directory", "ranks.csv");
        Assert.Contains("does not exist", Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--ranks", nowhere));
        Assert.Contains("is a directory", Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--ranks", _directory));
    }

    [Fact]
    public void Evaluate_names_missing_files_and_unknown_ids()
    {
        var package = SmallPackage();
        var input = Write("input.txt", "1 2\n4 99\n");
        var output = Write("output.txt", "3\n6\n");

        Assert.Contains("does not exist", Fails(EvaluateCommand.Create(), "--package", Path.Combine(_directory, "none"), "--input", input, "--output", output));

        Assert.Contains("missing.txt", Fails(EvaluateCommand.Create(), "--package", package, "--input", Path.Combine(_directory, "missing.txt"), "--output", output));

        Assert.Contains($"{input}:2: item 99 is outside the package's vocabulary 1..6", Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output));

        Assert.Contains("pair line by line", Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", Write("short.txt", "3\n")));

        Assert.NotEqual(0, Invoke(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--protocol", "bogus").Exit);
    }

    [Fact]
    public void A_command_line_that_does_not_parse_ends_with_its_errors_and_a_pointer_to_help_not_the_whole_help()
    {
        var run = CommandRunner.Run(EvaluateCommand.Create(), "--pakage", "x", "--input", "in.txt", "--output", "out.txt");
        Assert.Equal(1, run.Exit);
        Assert.Contains("'--pakage'", run.Error);
        Assert.Contains("--package", run.Output);
        Assert.EndsWith("Run 'recommender evaluate --help' for its options.", run.Error.TrimEnd());
        Assert.DoesNotContain("Usage:", run.Output + run.Error);
        Assert.Contains("Usage:", CommandRunner.Run(EvaluateCommand.Create(), "--help").Output);
    }

    [Theory]
    [InlineData("--dim", "abc", "'abc' is not a valid value for --dim: it takes a whole number.")]
    [InlineData("--lr", "fast", "'fast' is not a valid value for --lr: it takes a number.")]
    [InlineData("--min-rating", "high", "'high' is not a valid value for --min-rating: it takes a number.")]
    public void A_value_of_the_wrong_type_is_described_in_words_not_as_a_dotnet_type(string option, string value, string message)
    {
        var run = CommandRunner.Run(TrainCommand.Create(), "--train", "t.txt", "--out", "o", option, value);
        Assert.Equal(1, run.Exit);
        Assert.StartsWith(message, run.Error);
        Assert.DoesNotContain("System.", run.Error);
    }

    [Fact]
    public void Training_on_an_empty_file_says_it_holds_no_interactions()
    {
        var empty = Write("empty.txt", "");
        var (exit, _, error) = Invoke(TrainCommand.Create(), "--train", empty, "--out", Path.Combine(_directory, "empty-run"));
        Assert.Equal(1, exit);
        Assert.Equal($"error: {empty} holds no interactions: there is nothing to train on.", error.Trim());
    }

    [Fact]
    public void Baseline_builds_a_package_and_reports_malformed_lines()
    {
        var ratings = Write("ratings.csv", "userId,movieId,rating,timestamp\n1,10,4,1\n1,20,4,2\n2,10,4,1\n2,20,4,2\n");
        var outDir = Path.Combine(_directory, "out");
        var (exit, text, error) = Invoke(BaselineCommand.Create(), "--data", ratings, "--format", "movielens-csv", "--out", outDir, "--version", "rm-cli", "--dimension", "2");
        Assert.Equal(1, exit);
        Assert.Contains("dimension 2 must be smaller than the number of items (2)", error);
        (exit, text, error) = Invoke(BaselineCommand.Create(), "--data", ratings, "--format", "movielens-csv", "--out", outDir, "--version", "rm-cli", "--dimension", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("2 users, 2 items", text);
        var package = ModelPackage.Load(outDir);
        Assert.Equal(["10", "20"], package.Manifest.ItemIds);
        Assert.Equal("rm-cli", package.Manifest.Version);

        var bad = Write("bad.csv", "userId,movieId,rating,timestamp\n1,10,4,1\n1,20,4\n");
        Assert.Contains($"{bad}:3:", Fails(BaselineCommand.Create(), "--data", bad, "--format", "movielens-csv", "--out", outDir));

        // The sequence format reads ids as training does: 'x' is an error, not a new item.
        var tokens = Write("tokens.txt", "1 2 3\n1 x 0\n");
        Assert.Contains($"{tokens}:2: 'x' is not a positive integer item id.", Fails(BaselineCommand.Create(), "--data", tokens, "--format", "sequences", "--out", outDir));
    }

    [Fact]
    public void Export_turns_a_checkpoint_into_a_package_that_encodes_like_the_model()
    {
        var model = new SasRecModel(new SasRecConfig { ItemCount = 20, MaxLength = 8, Dimension = 8, Blocks = 1 }, seed: 4);
        var checkpoint = Path.Combine(_directory, "model.ckpt");
        model.Save(checkpoint);
        var outDir = Path.Combine(_directory, "exported");
        var (exit, text, error) = Invoke(ExportCommand.Create(), "--checkpoint", checkpoint, "--out", outDir, "--version", "sasrec-test");
        Assert.True(exit == 0, error);
        Assert.Contains("sasrec-test", text);
        using var encoder = new OnnxEncoder(ModelPackage.Load(outDir));
        int[][] histories = [[1, 2, 3], [20]];
        var expected = model.Encode(histories);
        var actual = encoder.Encode(histories);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-4);

        Assert.Contains("none.ckpt", Fails(ExportCommand.Create(), "--checkpoint", Path.Combine(_directory, "none.ckpt"), "--out", outDir, "--version", "x"));
        Assert.Contains("bad name/", Fails(ExportCommand.Create(), "--checkpoint", checkpoint, "--out", outDir, "--version", "bad name/"));
        Assert.Contains("lists 2 item ids; the model has 20", Fails(ExportCommand.Create(), "--checkpoint", checkpoint, "--out", outDir, "--version", "v", "--item-ids", Write("ids.txt", "a\nb\n")));
    }

    [Fact]
    public void Bench_inference_reports_latency_throughput_and_matmul_rate()
    {
        var (exit, text, error) = Invoke(BenchmarkCommand.Create(), "--items", "50", "--max-length", "20", "--dimension", "16", "--runs", "10");
        Assert.True(exit == 0, error);
        Assert.Contains("GFLOP/s", text);
        Assert.Contains("sequences/s", text);
    }

    [Fact]
    public void Export_refuses_duplicate_item_ids_an_output_that_is_a_file_and_a_truncated_checkpoint()
    {
        var model = new SasRecModel(new SasRecConfig { ItemCount = 3, MaxLength = 4, Dimension = 4, Blocks = 1 }, seed: 1);
        var checkpoint = Path.Combine(_directory, "small.ckpt");
        model.Save(checkpoint);
        var outDir = Path.Combine(_directory, "out");

        var error = Fails(ExportCommand.Create(), "--checkpoint", checkpoint, "--out", outDir, "--version", "v", "--item-ids", Write("dup.txt", "a\nb\na\n"));
        Assert.Contains("dup.txt:3", error);
        Assert.False(Directory.Exists(outDir));

        Assert.Contains("is a file", Fails(ExportCommand.Create(), "--checkpoint", checkpoint, "--out", Write("a-file", "x"), "--version", "v"));

        var truncated = Path.Combine(_directory, "truncated.ckpt");
        File.WriteAllBytes(truncated, File.ReadAllBytes(checkpoint)[..^40]);
        error = Fails(ExportCommand.Create(), "--checkpoint", truncated, "--out", outDir, "--version", "v");
        Assert.StartsWith("error:", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Evaluate_refuses_empty_case_files_a_broken_manifest_and_train_without_baselines()
    {
        var package = SmallPackage();
        var input = Write("in.txt", "1 2\n");
        var output = Write("out.txt", "3\n");

        Assert.Contains("no evaluation cases", Fails(EvaluateCommand.Create(), "--package", package, "--input", Write("empty-in.txt", ""), "--output", Write("empty-out.txt", "")));

        Assert.Contains("--baselines", Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--train", input));

        File.WriteAllText(Path.Combine(package, ModelPackage.ManifestFile), "{ not json");
        var error = Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output);
        Assert.StartsWith("error:", error);
        Assert.DoesNotContain("   at ", error);
    }

    [Fact]
    public void Bench_inference_refuses_too_few_or_too_many_runs_and_speaks_of_its_own_flags()
    {
        Assert.Contains("--runs 5", Fails(BenchmarkCommand.Create(), "--items", "50", "--max-length", "20", "--dimension", "16", "--runs", "5"));
        // Without the limit the largest count ran out of memory for its timings instead of being refused.
        Assert.Contains("--runs 2147483647 must be between 10 and 1,000,000",
            Fails(BenchmarkCommand.Create(), "--items", "50", "--max-length", "20", "--dimension", "16", "--runs", "2147483647"));
        Assert.Contains("--dimension 10 must be a positive multiple of --heads 3",
            Fails(BenchmarkCommand.Create(), "--items", "50", "--max-length", "20", "--dimension", "10", "--heads", "3"));
    }

    [Fact]
    public void Encode_text_reads_a_catalogue_file_of_json_lines_and_names_its_bad_lines()
    {
        var catalogue = Write("items.jsonl", """
            {"id":"sku-1","title":"Blue shirt","text":"Cotton","tags":["summer"]}

            {"id":"sku-2","title":"Red scarf","hidden":true}
            """);
        var vectors = Path.Combine(_directory, "items.tsv");
        var (exit, text, error) = Invoke(EncodeTextCommand.Create(), "--items", catalogue, "--out", vectors, "--threads", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("encoded 2 items", text);
        var written = TextVectorFile.Read(vectors);
        Assert.Equal(["sku-1", "sku-2"], written.Vectors.Keys.Order(StringComparer.Ordinal));
        using (var encoder = new SentenceTextEncoder(1))
        {
            var expected = encoder.Encode(["Blue shirt. Cotton. Tags: summer", "Red scarf"]);
            Assert.Equal(expected[0], written.Vectors["sku-1"], (a, b) => Math.Abs(a - b) < 1e-6f);
            Assert.Equal(expected[1], written.Vectors["sku-2"], (a, b) => Math.Abs(a - b) < 1e-6f);
        }

        var other = Path.Combine(_directory, "never.tsv");
        Assert.Contains("either --items or --movies", Fails(EncodeTextCommand.Create(), "--out", other));
        Assert.Contains("either --items or --movies", Fails(EncodeTextCommand.Create(), "--items", catalogue, "--movies", catalogue, "--out", other));
        Assert.Contains("--tags is MovieLens tags.csv and goes with --movies", Fails(EncodeTextCommand.Create(), "--items", catalogue, "--tags", catalogue, "--out", other));
        foreach (var (line, message) in new[]
        {
            ("""{"id":"a","title":"A"}""" + "\n" + """{"id":"a","title":"B"}""", ":2: item 'a' is on line 1 too"),
            ("""{"title":"No id"}""", ":1: the item has no \"id\" string"),
            ("""{"id":"a","title":7}""", ":1: \"title\" must be a string, not number"),
            ("""{"id":"a","tags":"summer"}""", ":1: \"tags\" must be an array of strings"),
            ("""["a"]""", ":1: an item must be a JSON object, not array"),
            ("""{"id":"a",""", ":1: not a JSON object"),
            ("\n\n", "lists no items"),
        })
        {
            var bad = Write($"bad-{Guid.NewGuid():N}.jsonl", line);
            Assert.Contains(message, Fails(EncodeTextCommand.Create(), "--items", bad, "--out", other));
        }
        Assert.False(File.Exists(other));
    }

    [Fact]
    public void Commands_refuse_a_thread_count_they_would_otherwise_change()
    {
        var package = SmallPackage();
        var input = Write("input.txt", "1 2\n");
        var output = Write("output.txt", "3\n");
        Assert.Contains("--threads 0 must be between 1 and 1,024",
            Fails(EvaluateCommand.Create(), "--package", package, "--input", input, "--output", output, "--threads", "0"));
        Assert.Contains("--threads 5000 must be between 1 and 1,024",
            Fails(BenchmarkCommand.Create(), "--items", "50", "--max-length", "20", "--dimension", "16", "--threads", "5000"));
        var vectors = Path.Combine(_directory, "vectors.tsv");
        Assert.Contains("--threads -1 must be between 1 and 1,024",
            Fails(EncodeTextCommand.Create(), "--movies", Write("movies.csv", "movieId,title,genres\n1,Film (2000),Drama\n"), "--out", vectors, "--threads", "-1"));
        Assert.False(File.Exists(vectors));
    }

    [Fact]
    public async Task Export_events_asks_again_after_a_429_or_503_as_retry_after_says_and_gives_up_after_three_attempts()
    {
        var port = FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        // A rate-limited answer, an unavailable one, then the export; then three unavailable answers in a row.
        int[] statuses = [429, 503, 200, 503, 503, 503];
        var times = new List<DateTime>();
        var served = Task.Run(async () =>
        {
            foreach (var status in statuses)
            {
                var context = await listener.GetContextAsync();
                times.Add(DateTime.UtcNow);
                context.Response.StatusCode = status;
                if (status != 200) context.Response.Headers["Retry-After"] = "1";
                var body = status == 200 ? EventExportFormat.Header + "\nline-1\n" : $"{{\"status\":{status}}}";
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
        });
        var target = Path.Combine(_directory, "retried.csv");
        var (exit, text, error) = await Task.Run(() => Invoke(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}", "--out", target));
        Assert.True(exit == 0, error);
        Assert.Contains("wrote 1 events", text);
        Assert.Contains("the API answered 429; asking again in 1 s (attempt 2 of 3)", error);
        Assert.Contains("the API answered 503; asking again in 1 s (attempt 3 of 3)", error);
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(0.9) && times[2] - times[1] >= TimeSpan.FromSeconds(0.9), "Retry-After was not waited for");

        Assert.Contains("answered 503: {\"status\":503}", await Task.Run(() => Fails(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}", "--out", Path.Combine(_directory, "never.csv"))));
        await served;
        Assert.Equal(statuses.Length, times.Count);
        Assert.False(File.Exists(Path.Combine(_directory, "never.csv")));
    }

    [Fact]
    public async Task Export_events_keeps_the_path_of_the_api_address_sends_the_api_key_and_refuses_a_non_positive_timeout()
    {
        var port = FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/prefix/");
        listener.Start();
        // The first request comes without a key, the second with it.
        var served = Task.Run(async () =>
        {
            for (var request = 0; request < 2; request++)
            {
                var context = await listener.GetContextAsync();
                var path = context.Request.Url!.AbsolutePath;
                var authorized = context.Request.Headers["Authorization"] == "Bearer admin-key-0123456789";
                context.Response.StatusCode = path != "/prefix/events/export" ? 404 : authorized ? 200 : 401;
                var body = path != "/prefix/events/export" ? "wrong path " + path : authorized ? EventExportFormat.Header + "\nline-1\n" : "no key";
                await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
                context.Response.Close();
            }
        });
        var target = Path.Combine(_directory, "events.csv");
        Assert.Contains("answered 401: no key", await Task.Run(() => Fails(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}/prefix", "--out", target)));
        Assert.False(File.Exists(target));
        var (exit, text, error) = await Task.Run(() => Invoke(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}/prefix", "--out", target, "--api-key", "admin-key-0123456789"));
        await served;
        Assert.True(exit == 0, error);
        Assert.Contains("wrote 1 events", text);
        Assert.Equal([EventExportFormat.Header, "line-1"], File.ReadAllLines(target));

        Assert.Contains("--timeout 0", Fails(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}", "--out", target, "--timeout", "0"));
        Assert.Contains("printable ASCII", Fails(ExportEventsCommand.Create(), "--api", $"http://127.0.0.1:{port}", "--out", target, "--api-key", "two words"));
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        socket.Start();
        return ((System.Net.IPEndPoint)socket.LocalEndpoint).Port;
    }
}
