using System.Text.Json.Nodes;
using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Inference;
using Recommender.Grains.Ranking;
using Recommender.Grains.Text;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Text;

namespace Recommender.Cluster.Tests.Text;

/// <summary>The plain classes behind the text pathway: explanations, the core budget, the text batcher and re-projection.</summary>
public sealed class TextUnitTests
{
    /// <summary>
    /// A catalogue file's item text, as encode-text --items composes it for training, is the text the cluster composes
    /// for the same item written through POST /items: the vectors trained on are those served with.
    /// </summary>
    [Fact]
    public void A_catalogue_files_item_text_is_composed_as_the_cluster_composes_a_written_item()
    {
        string[] lines =
        [
            """{"id":"a","title":"  Blue   shirt. ","text":"Cotton.\tSlim fit","tags":["Summer","summer","  sale "]}""",
            """{"id":"b","title":"Only a title"}""",
            """{"id":"c","title":"Τίτλος 😀","text":null,"tags":[],"hidden":true,"embedding":null}""",
            $$"""{"id":"d","title":"Long","text":"{{new string('x', 700)}}","tags":["cut"]}""",
            """{"id":"e","title":"Tags only.","tags":["x","y"],"expiresAt":"2099-01-01T00:00:00Z"}""",
        ];
        var path = Path.Combine(Path.GetTempPath(), $"catalogue-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, lines);
        try
        {
            var composed = CatalogueText.Compose(path);
            var errors = new Recommender.Api.Validation.ValidationErrors();
            using var body = System.Text.Json.JsonDocument.Parse("[" + string.Join(",", lines) + "]");
            var written = Recommender.Api.Validation.ItemBatch.ParseMany(body.RootElement, null, errors);
            Assert.False(errors.Any);
            Assert.Equal(written.Select(i => i.Id), composed.Keys.Order(StringComparer.Ordinal));
            foreach (var item in written) Assert.Equal(TextEncoding.Compose(item), composed[item.Id]);
            Assert.Equal("Blue shirt. Cotton. Slim fit. Tags: Summer, sale", composed["a"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Explanations_pick_the_most_similar_history_items_never_the_item_itself_and_only_positive_ones()
    {
        (string, string, float[])[] history =
        [
            ("h-recent", "Recent", [1f, 0f, 0f]),
            ("h-close", "Close", [0.9f, 0.1f, 0f]),
            ("h-far", "Far", [0f, 1f, 0f]),
            ("h-opposite", "Opposite", [-1f, 0f, 0f]),
            ("r2", "Also recommended", [0f, 0f, 1f]),
        ];
        var reasons = HistoryExplanations.Explain([("r1", [2f, 0.1f, 0f]), ("r2", [0f, 0f, 3f]), ("r3", [-1f, 0f, 0f])], history, 2);

        Assert.Equal(["h-recent", "h-close"], reasons[0].Select(r => r.ItemId));
        Assert.True(reasons[0][0].Similarity > reasons[0][1].Similarity);
        Assert.Equal("Recent", reasons[0][0].Title);
        // r2 is in the history too: it does not explain itself, and nothing else points its way.
        Assert.Empty(reasons[1]);
        Assert.Equal(["h-opposite"], reasons[2].Select(r => r.ItemId));
        Assert.Equal(1f, reasons[2][0].Similarity, 5);

        // Equal similarities: the more recent history item (earlier in the list) comes first.
        var tie = HistoryExplanations.Explain([("r", [1f, 1f])], [("a", "A", [1f, 0f]), ("b", "B", [0f, 1f])], 1);
        Assert.Equal("a", tie[0].Single().ItemId);
    }

    [Fact]
    public async Task The_core_budget_is_never_exceeded_and_background_work_gives_way_to_waiting_foreground_work()
    {
        var gate = new ComputeGate(2);
        var running = 0;
        var peak = 0;
        var order = new List<string>();
        async Task Run(string name, int threads, bool background, int milliseconds)
        {
            using (await gate.EnterAsync(threads, background))
            {
                var now = Interlocked.Add(ref running, Math.Min(threads, gate.Cores));
                InterlockedMax(ref peak, now);
                lock (order) order.Add(name);
                await Task.Delay(milliseconds);
                Interlocked.Add(ref running, -Math.Min(threads, gate.Cores));
            }
        }

        // A background run holds both cores; a second background run and then a foreground run queue behind it.
        var first = Run("background-1", 2, true, 200);
        var second = Run("background-2", 2, true, 20);
        var foreground = Run("foreground", 1, false, 20);
        Assert.False(second.IsCompleted || foreground.IsCompleted);
        await Task.WhenAll(first, second, foreground);
        Assert.Equal(["background-1", "foreground", "background-2"], order);
        Assert.Equal(2, peak);

        // Many mixed runs at once: never more threads than cores, and every one gets its turn.
        peak = 0;
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Run($"r{i}", 1 + i % 3, i % 2 == 0, 2)));
        Assert.Equal(2, peak);
        Assert.Equal(43, order.Count);
    }

    [Fact]
    public async Task The_text_batcher_gathers_concurrent_requests_into_one_call_and_returns_each_its_rows()
    {
        var calls = new List<int>();
        using var batcher = new TextBatcher(texts =>
        {
            lock (calls) calls.Add(texts.Count);
            if (texts.Contains("boom")) throw new InvalidOperationException("encoder failed");
            return texts.Select(t => new[] { (float)t.Length }).ToArray();
        }, maxBatch: 8, window: TimeSpan.FromMilliseconds(200));

        var requests = new[] { new[] { "a", "bb" }, ["ccc"], ["dddd", "eeeee", "ffffff"] };
        var results = await Task.WhenAll(requests.Select(r => batcher.EncodeAsync(r)));
        Assert.Equal([2, 1, 3], results.Select(r => r.Length));
        for (var i = 0; i < requests.Length; i++)
            Assert.Equal(requests[i].Select(t => (float)t.Length), results[i].Select(v => v[0]));
        Assert.Equal([6], calls);

        var failing = batcher.EncodeAsync(["boom"]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Empty(await batcher.EncodeAsync([]));
    }

    [Fact]
    public void Projection_places_untrained_items_from_text_keeps_fitting_embeddings_and_drops_stale_projections()
    {
        const int dimension = 4;
        var withProjection = Package("with", dimension, projection: true);
        var idOnly = Package("without", dimension, projection: false);
        using var projecting = new LoadedModel(withProjection, new OnnxThreading());
        using var plain = new LoadedModel(idOnly, new OnnxThreading());
        var text = TextVector(3);
        var fitting = VectorBytes.FromFloats([9f, 9f, 9f, 9f]);
        var otherDimension = VectorBytes.FromFloats([1f, 2f]);
        ShardEntry[] entries =
        [
            new("1", "Trained", null, null, text),
            new("new", "From text", null, null, text),
            new("embedded", "Explicit", fitting, null, text),
            new("resized", "Stale embedding", otherDimension, null, text),
            new("moved", "Old projection", fitting, null, text, Projected: true),
            new("lost", "Old projection without text", fitting, null, null, Projected: true),
        ];

        var placed = TextProjection.Apply(projecting, entries).ToDictionary(e => e.ItemId);
        // The projection's weights copy text value d into item dimension d, plus a bias of 1.
        var expected = VectorBytes.FromFloats([1f, 1f, 1f, 2f]);
        Assert.Null(placed["1"].Vector);
        Assert.Equal(expected, placed["new"].Vector);
        Assert.True(placed["new"].Projected);
        Assert.Equal(fitting, placed["embedded"].Vector);
        Assert.False(placed["embedded"].Projected);
        Assert.Equal(expected, placed["resized"].Vector);
        Assert.Equal(expected, placed["moved"].Vector);
        Assert.Null(placed["lost"].Vector);
        Assert.All(placed.Values, e => Assert.Null(e.TextVector));

        var unplaced = TextProjection.Apply(plain, entries).ToDictionary(e => e.ItemId);
        Assert.Null(unplaced["new"].Vector);
        Assert.Equal(fitting, unplaced["embedded"].Vector);
        Assert.Null(unplaced["resized"].Vector);
        Assert.Null(unplaced["moved"].Vector);
        Assert.False(unplaced["moved"].Projected);
    }

    private static byte[] TextVector(int hot)
    {
        var vector = new float[SentenceTextEncoder.Dimension];
        vector[hot] = 1f;
        return VectorBytes.FromFloats(vector);
    }

    /// <summary>A five-item package whose projection copies the first Dimension text values and adds 1.</summary>
    private static ModelPackage Package(string version, int dimension, bool projection)
    {
        // More items than dimensions: the PMI-SVD baseline refuses a dimension that is not below the item count.
        var baseline = Recommender.Model.Baselines.RecencyMeanModel.Build(
            new Recommender.Model.Data.SequenceDataset([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], ["1", "2", "3", "4", "5"]), version, dimension, maxLength: 4);
        if (!projection) return baseline;
        var weight = new float[SentenceTextEncoder.Dimension * dimension];
        for (var d = 0; d < dimension; d++) weight[d * dimension + d] = 1f;
        var bias = Enumerable.Repeat(1f, dimension).ToArray();
        var manifest = baseline.Manifest with
        {
            ItemRepresentation = ItemRepresentations.IdAndText,
            TextEncoder = SentenceTextEncoder.ModelName,
            TextDimension = SentenceTextEncoder.Dimension,
            TextTemplate = ItemText.Template,
            Training = new JsonObject(),
        };
        return new ModelPackage(manifest, baseline.EncoderOnnx, baseline.ItemEmbeddings,
            TextProjectionGraph.Build(weight, bias, SentenceTextEncoder.Dimension, dimension));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
