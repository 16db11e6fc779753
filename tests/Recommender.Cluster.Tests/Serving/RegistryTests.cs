using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Recommender.Cluster.Tests.Api;
using Onnx;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>POST /models validation (nothing stored on failure), listing, activation, rollback and the carry-over of added items.</summary>
[Collection(ServingCollection.Name)]
public sealed class RegistryTests(ServingCluster cluster)
{
    private string ModelsDirectory => Path.Combine(cluster.DataDirectory, "models");

    private async Task<ProblemReply> AssertRejected(Dictionary<string, byte[]> parts, string version, string field, string because, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var before = Directory.GetDirectories(ModelsDirectory).Order().ToArray();
        using var response = await TestPackages.Upload(cluster.Http, parts);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{because}: answered {(int)response.StatusCode}: {body}");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        Assert.True(problem.Errors?.ContainsKey(field), $"{because}: the problem should name '{field}': {body}");
        Assert.Equal(before, Directory.GetDirectories(ModelsDirectory).Order().ToArray());
        if (status != HttpStatusCode.Conflict)
            Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{version}")).StatusCode);
        return problem;
    }

    [Fact]
    public async Task Bad_uploads_are_400_problems_naming_the_part_and_store_nothing()
    {
        var version = TestPackages.NewVersion("bad");
        var good = TestPackages.Files(TestPackages.Baseline(cluster.Ratings, version, 16));

        await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes("{ not json") }, version, "manifest", "malformed manifest");
        var manifest = Encoding.UTF8.GetString(good["manifest"]);
        await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes(manifest.Replace("\"dimension\": 16", "\"dimension\": 0")) }, version, "manifest", "zero dimension");
        await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes(manifest.Replace("\"format\": 1", "\"format\": 7")) }, version, "manifest", "unknown format");
        var misspelt = await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes(manifest.Replace("\"format\": 1", "\"format\": 1, \"similarty\": \"cosine\"")) },
            version, "manifest", "a misspelt field");
        Assert.Contains("similarty", misspelt.Errors!["manifest"][0]);
        // An item id the API could never address (a control character) is refused like one in an event.
        var parsed = JsonSerializer.Deserialize<ModelManifest>(good["manifest"], ModelPackage.JsonOptions)!;
        var controlId = await AssertRejected(new(good) { ["manifest"] = JsonSerializer.SerializeToUtf8Bytes(parsed with { ItemIds = ["a\u0000b", .. parsed.ItemIds.Skip(1)] }, ModelPackage.JsonOptions) },
            version, "manifest", "item id with a control character");
        Assert.Contains("itemIds[0] must not contain control characters.", controlId.Errors!["manifest"]);
        await AssertRejected(new(good) { ["embeddings"] = good["embeddings"][..^4] }, version, "embeddings", "one float short");
        var nan = good["embeddings"].ToArray();
        BitConverter.GetBytes(float.NaN).CopyTo(nan, 8);
        await AssertRejected(new(good) { ["embeddings"] = nan }, version, "embeddings", "a NaN vector value");
        await AssertRejected(new(good) { ["encoder"] = Encoding.UTF8.GetBytes("not an onnx graph") }, version, "encoder", "garbage encoder");
        // A real encoder of another dimension: loads, but breaks the contract with this manifest.
        var other = TestPackages.Files(TestPackages.Baseline(cluster.Ratings, version, 8));
        await AssertRejected(new(good) { ["encoder"] = other["encoder"] }, version, "encoder", "encoder of dimension 8 under a dimension-16 manifest");
        await AssertRejected(new(good) { ["encoder"] = TestPackages.Files(TestPackages.Transformer(Enumerable.Range(1, 120).Select(i => i.ToString()).ToArray(), version, 16, maxLength: 20))["encoder"] },
            version, "encoder", "encoder whose max length differs from the manifest's");
        // An encoder that knows only the first 60 of the manifest's 120 items fails its probe of the last ones.
        string[] Ids(int count) => Enumerable.Range(1, count).Select(i => i.ToString()).ToArray();
        var wide = TestPackages.Files(TestPackages.Transformer(Ids(120), version, 16, maxLength: 20));
        var narrow = TestPackages.Files(TestPackages.Transformer(Ids(60), version, 16, maxLength: 20));
        await AssertRejected(new(wide) { ["encoder"] = narrow["encoder"] }, version, "encoder", "encoder with half the manifest's items");
        var longWindow = await AssertRejected(new(good) { ["manifest"] = JsonSerializer.SerializeToUtf8Bytes(parsed with { MaxLength = 50_000_000 }, ModelPackage.JsonOptions) },
            version, "manifest", "a max length beyond the limit");
        Assert.Contains("The manifest's maxLength 50,000,000 is above the limit of 4,096.", longWindow.Errors!["manifest"]);
        var missing = new Dictionary<string, byte[]>(good);
        missing.Remove("encoder");
        await AssertRejected(missing, version, "encoder", "missing part");
        // Registering without it would drop the text projection the sender meant to include.
        await AssertRejected(new(good) { ["text-projection"] = good["encoder"] }, version, "text-projection", "misspelt optional part");

        // The manifest sent as a form field (curl -F manifest=pkg/manifest.json, without the '@').
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new StringContent("pkg/manifest.json"), "manifest");
            form.Add(new ByteArrayContent(good["encoder"]), "encoder", "encoder.onnx");
            form.Add(new ByteArrayContent(good["embeddings"]), "embeddings", "item_embeddings.bin");
            using var asField = await cluster.Http.PostAsync("/models", form);
            Assert.Equal(HttpStatusCode.BadRequest, asField.StatusCode);
            Assert.Contains("is a form field, not a file", (await asField.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["manifest"][0]);
        }

        using (var notMultipart = await cluster.Http.PostAsJsonAsync("/models", new { version }))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, notMultipart.StatusCode);

        // The good package goes in once; the same version again is a conflict that changes nothing.
        using (var ok = await TestPackages.Upload(cluster.Http, good))
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.True(File.Exists(Path.Combine(ModelsDirectory, version, ModelPackage.EncoderFile)));
        await AssertRejected(good, version, "version", "duplicate version", HttpStatusCode.Conflict);
        Assert.DoesNotContain(Directory.GetDirectories(ModelsDirectory), d => Path.GetFileName(d).StartsWith(".staging", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Versions_that_are_not_plain_names_non_finite_metrics_huge_vectors_and_cut_off_bodies_are_rejected_and_touch_nothing()
    {
        var version = TestPackages.NewVersion("odd");
        var good = TestPackages.Files(TestPackages.Baseline(cluster.Ratings, version, 16));
        var manifest = Encoding.UTF8.GetString(good["manifest"]);
        Assert.Contains($"\"version\": \"{version}\"", manifest);
        Assert.Contains("\"metrics\": null", manifest);
        var database = Directory.GetFiles(cluster.DataDirectory, "*.db").Single();
        var stored = Directory.GetDirectories(ModelsDirectory).Length;
        Assert.True(stored > 0);

        // A version names a directory: "." and ".." would name the models directory and the data directory.
        foreach (var name in new[] { "\".\"", "\"..\"", "\"-x\"", "null" })
            await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes(manifest.Replace($"\"{version}\"", name)) }, version, "manifest", $"version {name}");
        Assert.True(File.Exists(database));
        Assert.Equal(stored, Directory.GetDirectories(ModelsDirectory).Length);

        await AssertRejected(new(good) { ["manifest"] = Encoding.UTF8.GetBytes(manifest.Replace("\"metrics\": null", "\"metrics\": { \"val NDCG@10\": \"NaN\" }")) },
            version, "manifest", "a NaN metric");
        var huge = good["embeddings"].ToArray();
        BitConverter.GetBytes(1e30f).CopyTo(huge, 4);
        await AssertRejected(new(good) { ["embeddings"] = huge }, version, "embeddings", "an item vector whose dot products overflow");

        using var cutOff = new ByteArrayContent(Encoding.ASCII.GetBytes("--xyz\r\nContent-Disposition: form-data; name=\"manifest\"; filename=\"a\"\r\n\r\nabc"));
        cutOff.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=xyz");
        using var response = await cluster.Http.PostAsync("/models", cutOff);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
        Assert.Contains("\"body\"", body);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{version}")).StatusCode);
    }

    [Fact]
    public async Task A_package_placed_in_the_incoming_directory_is_registered_after_the_upload_checks_and_moved_into_place()
    {
        var version = TestPackages.NewVersion("placed");
        async Task<ProblemReply> Refused(string path, HttpStatusCode status, string field)
        {
            using var response = await cluster.Http.PostAsync(path, null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{path} answered {(int)response.StatusCode}: {body}");
            var problem = JsonSerializer.Deserialize<ProblemReply>(body, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            Assert.True(problem.Errors?.ContainsKey(field), $"the problem should name '{field}': {body}");
            Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{version}")).StatusCode);
            return problem;
        }

        Assert.Contains("No package is placed", (await Refused($"/models/{version}/register", HttpStatusCode.NotFound, "version")).Errors!["version"][0]);
        await Refused("/models/-dash-first/register", HttpStatusCode.BadRequest, "version");

        var incoming = Path.Combine(ModelsDirectory, ".incoming");
        var directory = Path.Combine(incoming, version);
        TestPackages.Baseline(cluster.Ratings, version, 16).Save(directory);
        var embeddings = Path.Combine(directory, ModelPackage.EmbeddingsFile);
        var whole = File.ReadAllBytes(embeddings);
        File.WriteAllBytes(embeddings, whole[..^64]);
        await Refused($"/models/{version}/register", HttpStatusCode.BadRequest, "embeddings");
        // Refused, the package is back where it was placed, to be fixed there.
        File.WriteAllBytes(embeddings, whole);

        // The same files under another version's directory: the manifest must name the directory.
        var elsewhere = TestPackages.NewVersion("elsewhere");
        Directory.CreateDirectory(Path.Combine(incoming, elsewhere));
        foreach (var file in Directory.GetFiles(directory)) File.Copy(file, Path.Combine(incoming, elsewhere, Path.GetFileName(file)));
        using (var misplaced = await cluster.Http.PostAsync($"/models/{elsewhere}/register", null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, misplaced.StatusCode);
            Assert.Contains($"names version '{version}'", (await misplaced.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["manifest"][0]);
        }
        Directory.Delete(Path.Combine(incoming, elsewhere), recursive: true);

        using (var withBody = await cluster.Http.PostAsJsonAsync($"/models/{version}/register", new { version }))
            Assert.Equal(HttpStatusCode.BadRequest, withBody.StatusCode);
        // A stale file where the version's directory goes (not a registered version) is replaced.
        File.WriteAllText(Path.Combine(ModelsDirectory, version), "stale");
        using (var registered = await cluster.Http.PostAsync($"/models/{version}/register", null))
        {
            Assert.True(registered.StatusCode == HttpStatusCode.Created, await registered.Content.ReadAsStringAsync());
            Assert.Equal($"/models/{version}", registered.Headers.Location?.OriginalString);
        }
        var model = await cluster.GetJsonAsync<ModelReply>($"/models/{version}");
        Assert.Equal(("registered", 16, 120), (model.State, model.Dimension, model.ItemCount));
        // Moved into the models directory, where the operator no longer writes.
        Assert.False(Directory.Exists(directory));
        Assert.Equal(whole, File.ReadAllBytes(Path.Combine(ModelsDirectory, version, ModelPackage.EmbeddingsFile)));
        Assert.Empty(Directory.GetDirectories(ModelsDirectory, ".placing-*"));
        using var again = await cluster.Http.PostAsync($"/models/{version}/register", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Registered_versions_are_listed_activated_and_rolled_back()
    {
        var before = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.NotNull(before.Active);
        Assert.Contains(before.Models, m => m.Fallback && m.Kind == "recency-mean");

        var version = TestPackages.NewVersion("listed");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, version, 16));
        var registered = await cluster.GetJsonAsync<ModelReply>($"/models/{version}");
        Assert.Equal("registered", registered.State);
        Assert.Equal(16, registered.Dimension);
        Assert.Equal(120, registered.ItemCount);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.PostAsync("/models/no-such-version/activate", null)).StatusCode);
        // A body would be ignored (say, a version meant for a rollback): refused, and nothing is activated.
        using (var withBody = await cluster.Http.PostAsJsonAsync($"/models/{version}/activate", new { version = before.Active }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, withBody.StatusCode);
            Assert.Equal("Activation takes no body; its parameters are in the path.", (await withBody.Content.ReadFromJsonAsync<ProblemReply>())!.Errors!["body"][0]);
        }
        using (var rollbackWithBody = await cluster.Http.PostAsJsonAsync("/models/rollback", new { version }))
            Assert.Equal(HttpStatusCode.BadRequest, rollbackWithBody.StatusCode);
        Assert.Equal(before.Active, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);

        var activation = await TestPackages.Activate(cluster.Http, version);
        Assert.Equal(version, activation.Active);
        Assert.Equal(before.Active, activation.Previous);
        var after = await cluster.GetJsonAsync<ModelsReply>("/models");
        Assert.Equal(version, after.Active);
        Assert.Equal("active", after.Models.Single(m => m.Version == version).State);
        Assert.Equal("retired", after.Models.Single(m => m.Version == before.Active).State);
        await ServingChecks.WaitForVersion(cluster, "4", version);
        // Activating the active version again changes nothing and still names the version it replaced.
        var again = await TestPackages.Activate(cluster.Http, version);
        Assert.Equal((version, before.Active), (again.Active, again.Previous));

        using var rollback = await cluster.Http.PostAsync("/models/rollback", null);
        Assert.True(rollback.IsSuccessStatusCode, await rollback.Content.ReadAsStringAsync());
        Assert.Equal(before.Active, (await rollback.Content.ReadFromJsonAsync<ActivationReply>())!.Active);
        Assert.Equal(before.Active, (await cluster.GetJsonAsync<ModelsReply>("/models")).Active);
        await ServingChecks.WaitForVersion(cluster, "4", before.Active!);
    }

    [Fact]
    public async Task Items_added_through_the_api_survive_an_activation_when_their_vector_fits()
    {
        var id = "added-" + Guid.NewGuid().ToString("N");
        var random = new Random(11);
        var embedding = Enumerable.Range(0, 16).Select(_ => (float)random.NextDouble() + 0.05f).ToArray();
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{id}", new { title = "Added", tags = new[] { "Extra" }, embedding }))
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var same = TestPackages.NewVersion("carry16");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, same, 16, keep: m => m <= 80));
        var kept = await TestPackages.Activate(cluster.Http, same);
        Assert.DoesNotContain(id, kept.NotRecommendable);
        Assert.True(kept.CarriedItems >= 1);
        var item = await cluster.GetJsonAsync<ItemReply>($"/items/{id}");
        Assert.True(item.Recommendable);
        Assert.Equal(same, item.Placement!.ModelVersion);
        // Its vector is in the new version's shard, and found by its own tag.
        var similar = await cluster.GetJsonAsync<SimilarReply>($"/items/{id}/similar?k=5");
        Assert.Equal(same, similar.ModelVersion);
        // A model item's title and tags were carried into the new version's shards too.
        var drama = await cluster.GetJsonAsync<RecommendationsReply>("/users/4/recommendations?k=5&tag=Drama");
        Assert.All(drama.Items, i => Assert.Equal(Infrastructure.SmallCatalogue.Title(int.Parse(i.Id)), i.Title.Replace(", The", "")));

        var smaller = TestPackages.NewVersion("carry8");
        await TestPackages.UploadOk(cluster.Http, TestPackages.Baseline(cluster.Ratings, smaller, 8));
        var dropped = await TestPackages.Activate(cluster.Http, smaller);
        Assert.Contains(id, dropped.NotRecommendable);
        Assert.False((await cluster.GetJsonAsync<ItemReply>($"/items/{id}")).Recommendable);
    }

    /// <summary>
    /// An encoder that meets the contract and passes the upload's probes (histories of one item and of full windows)
    /// but answers NaN for every history of exactly two items.
    /// </summary>
    private static byte[] NanForTwoItemsEncoder(int maxLength, int dimension)
    {
        var graph = new OnnxGraphBuilder("nan-for-two");
        graph.AddInput(ModelPackage.EncoderInput, TensorProto.Types.DataType.Int64, "batch", maxLength);
        graph.AddOutput(ModelPackage.EncoderOutput, TensorProto.Types.DataType.Float, "batch", dimension);
        var present = graph.Node("Cast", [graph.Node("Greater", [ModelPackage.EncoderInput, graph.AddInitializer("zero", [0L])])], null, ("to", (long)TensorProto.Types.DataType.Float));
        var vector = graph.Node("MatMul", [present, graph.AddInitializer("weights", Enumerable.Repeat(0.1f, maxLength * dimension).ToArray(), maxLength, dimension)]);
        var count = graph.Node("ReduceSum", [present, graph.Int64s("axes", 1)], null, ("keepdims", 1L));
        var two = graph.Node("Equal", [count, graph.Scalar("two", 2f)]);
        graph.Node("Where", [two, graph.Scalar("nan", float.NaN), vector], ModelPackage.EncoderOutput);
        return graph.ToBytes();
    }

    [Fact]
    public async Task A_history_the_encoder_turns_into_a_non_finite_vector_gets_the_popular_list()
    {
        var before = await cluster.GetJsonAsync<ModelsReply>("/models");
        var version = TestPackages.NewVersion("nan");
        var baseline = TestPackages.Baseline(cluster.Ratings, version, 16);
        await TestPackages.UploadOk(cluster.Http, new ModelPackage(baseline.Manifest, NanForTwoItemsEncoder(baseline.Manifest.MaxLength, 16), baseline.ItemEmbeddings));
        await TestPackages.Activate(cluster.Http, version);
        try
        {
            var user = "nan-" + Guid.NewGuid().ToString("N");
            object View(string item) => new { userId = user, itemId = item, type = "view", timestamp = ServingChecks.Now() };
            await ServingChecks.Post(cluster.Http, View("47"), View("48"));
            var fallback = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");
            Assert.Equal((version, "popularity"), (fallback.ModelVersion, fallback.Source));
            Assert.Equal(5, fallback.Items.Count);
            Assert.DoesNotContain(fallback.Items, i => i.Id is "47" or "48");

            await ServingChecks.Post(cluster.Http, View("4"));
            var modelled = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{user}/recommendations?k=5");
            Assert.Equal((version, "model", 5), (modelled.ModelVersion, modelled.Source, modelled.Items.Count));
        }
        finally
        {
            await TestPackages.Activate(cluster.Http, before.Active!);
        }
    }
}
