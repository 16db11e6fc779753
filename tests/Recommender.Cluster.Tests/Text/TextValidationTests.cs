using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Recommender.Cluster.Tests.Api;
using Recommender.Cluster.Tests.Serving;
using Recommender.Model.Packaging;
using Recommender.Model.Text;

namespace Recommender.Cluster.Tests.Text;

/// <summary>Bad item bodies and bad text projections are 400 problems naming the field, and nothing is written.</summary>
[Collection(TextCollection.Name)]
public sealed class TextValidationTests(TextCluster cluster)
{
    private async Task AssertRejected(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        Assert.True(problem.Errors?.ContainsKey(field) == true, $"the problem should name '{field}': {body}");
    }

    private async Task AssertAbsent(string id)
    {
        using var get = await cluster.Http.GetAsync($"/items/{id}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Bad_item_bodies_are_400_problems_naming_the_field_and_write_nothing()
    {
        var dimension = (await cluster.GetJsonAsync<ModelsReply>("/models")).Models.Single(m => m.State == "active").Dimension;

        var tooLong = $"long-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{tooLong}", new { title = "Comet Odyssey", text = new string('x', 20_001) }))
            await AssertRejected(put, "text");
        await AssertAbsent(tooLong);

        // A NUL in a title or a control character in a tag is refused; a line break in the text is text.
        var nul = $"nul-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{nul}", new { title = "Comet\u0000Odyssey" }))
            await AssertRejected(put, "title");
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{nul}", new { title = "Comet Odyssey", tags = new[] { "space\u001b[31m" } }))
            await AssertRejected(put, "tags");
        await AssertAbsent(nul);
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{nul}", new { title = "Comet Odyssey", text = "Line one.\nLine two.\tTabbed." }))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var wrongDimension = $"dim-{Guid.NewGuid():N}";
        using (var put = await cluster.Http.PutAsJsonAsync($"/items/{wrongDimension}", new { title = "Comet Odyssey", text = "A space story.", embedding = new float[dimension + 1] }))
            await AssertRejected(put, "embedding");
        await AssertAbsent(wrongDimension);

        // One bad item spoils the batch: the good one is not written either.
        var good = $"good-{Guid.NewGuid():N}";
        var bad = $"bad-{Guid.NewGuid():N}";
        using (var post = await cluster.Http.PostAsJsonAsync("/items", new object[]
        {
            new { id = good, title = "Rocket Frontier", text = "A fine space story." },
            new { id = bad, title = "Rocket Frontier II", text = new string('y', 20_001) },
        }))
            await AssertRejected(post, "[1].text");
        await AssertAbsent(good);
        await AssertAbsent(bad);
    }

    [Fact]
    public async Task Bad_text_projections_are_400_problems_naming_the_part_and_store_nothing()
    {
        var modelsDirectory = Path.Combine(cluster.DataDirectory, "models");
        var version = TestPackages.NewVersion("badtext");
        var good = TextPackages.Files(TextPackages.WithProjection(cluster.Seed, version, 16));

        async Task Rejected(Dictionary<string, byte[]> parts, string because)
        {
            var before = Directory.GetDirectories(modelsDirectory).Order().ToArray();
            using var response = await TestPackages.Upload(cluster.Http, parts);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{because}: answered {(int)response.StatusCode}: {body}");
            Assert.True((await response.Content.ReadFromJsonAsync<ProblemReply>())!.Errors?.ContainsKey("text_projection") == true, $"{because}: should name text_projection: {body}");
            Assert.Equal(before, Directory.GetDirectories(modelsDirectory).Order().ToArray());
            Assert.Equal(HttpStatusCode.NotFound, (await cluster.Http.GetAsync($"/models/{version}")).StatusCode);
        }

        await Rejected(new(good) { ["text_projection"] = "not an onnx graph"u8.ToArray() }, "garbage projection");
        // A real projection to 8 values under a dimension-16 manifest.
        var narrow = TextProjectionGraph.Build(new float[SentenceTextEncoder.Dimension * 8], new float[8], SentenceTextEncoder.Dimension, 8);
        await Rejected(new(good) { ["text_projection"] = narrow }, "projection of the wrong dimension");
        // A projection that reads 100-wide text vectors cannot read this cluster's 384-wide ones.
        var manifest = JsonSerializer.Deserialize<ModelManifest>(good["manifest"], ModelPackage.JsonOptions)!;
        var reader = TextProjectionGraph.Build(new float[100 * 16], new float[16], 100, 16);
        await Rejected(new(good) { ["manifest"] = JsonSerializer.SerializeToUtf8Bytes(manifest with { TextDimension = 100 }, ModelPackage.JsonOptions), ["text_projection"] = reader },
            "projection over another text width");
        // An ID-only manifest with a projection beside it.
        await Rejected(new(good) { ["manifest"] = JsonSerializer.SerializeToUtf8Bytes(manifest with { ItemRepresentation = ItemRepresentations.Id }, ModelPackage.JsonOptions) },
            "projection under an id-only manifest");
        // A text manifest without its projection: the version could never place an item from its text.
        var withoutProjection = new Dictionary<string, byte[]>(good);
        withoutProjection.Remove("text_projection");
        await Rejected(withoutProjection, "text manifest without a projection");

        using var ok = await TestPackages.Upload(cluster.Http, good);
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        Assert.True(File.Exists(Path.Combine(modelsDirectory, version, "text_projection.onnx")));
    }
}
