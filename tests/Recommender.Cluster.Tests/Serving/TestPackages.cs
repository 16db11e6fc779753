using System.Globalization;
using System.Net.Http.Headers;
using Recommender.Model.Baselines;
using Recommender.Model.Data;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Sasrec;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>Model packages built inside the tests from the generated catalogue, and their upload through POST /models.</summary>
public static class TestPackages
{
    public static string NewVersion(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 100)];

    /// <summary>The recency-mean baseline over the ratings of the items <paramref name="keep"/> accepts (so its vocabulary is exactly those items).</summary>
    public static ModelPackage Baseline(string ratingsCsv, string version, int dimension, Func<int, bool>? keep = null)
    {
        var sequences = File.ReadLines(ratingsCsv).Skip(1)
            .Select(l => l.Split(','))
            .Select(f => (User: f[0], Item: int.Parse(f[1], CultureInfo.InvariantCulture), Time: long.Parse(f[3], CultureInfo.InvariantCulture)))
            .Where(r => keep is null || keep(r.Item))
            .GroupBy(r => r.User)
            .Select(g => g.OrderBy(r => r.Time).Select(r => r.Item).ToArray())
            .ToArray();
        var items = sequences.SelectMany(s => s).Distinct().Order().ToArray();
        var dense = items.Select((item, i) => (item, i + 1)).ToDictionary(p => p.item, p => p.Item2);
        var data = new SequenceDataset(sequences.Select(s => s.Select(i => dense[i]).ToArray()).ToArray(), items.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
        return RecencyMeanModel.Build(data, version, dimension, maxLength: 50);
    }

    /// <summary>A randomly initialised SASRec transformer over <paramref name="itemIds"/>, exported to ONNX.</summary>
    public static ModelPackage Transformer(IReadOnlyList<string> itemIds, string version, int dimension = 16, int maxLength = 20)
    {
        var model = new SasRecModel(new SasRecConfig { ItemCount = itemIds.Count, Dimension = dimension, MaxLength = maxLength, Blocks = 1, Heads = 1, FeedForwardDimension = dimension }, seed: 5);
        return SasRecExporter.Export(model, itemIds, version, null, null);
    }

    public static Task<HttpResponseMessage> Upload(HttpClient http, ModelPackage package) =>
        Upload(http, Files(package));

    public static Task<HttpResponseMessage> Upload(HttpClient http, IReadOnlyDictionary<string, byte[]> parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in parts)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, name, name + ".bin");
        }
        return http.PostAsync("/models", form);
    }

    /// <summary>The three upload parts of a package, as its files would hold them.</summary>
    public static Dictionary<string, byte[]> Files(ModelPackage package)
    {
        var directory = Path.Combine(Path.GetTempPath(), "recommender-tests", "package-" + Guid.NewGuid().ToString("N"));
        package.Save(directory);
        try
        {
            return new Dictionary<string, byte[]>
            {
                ["manifest"] = File.ReadAllBytes(Path.Combine(directory, ModelPackage.ManifestFile)),
                ["encoder"] = File.ReadAllBytes(Path.Combine(directory, ModelPackage.EncoderFile)),
                ["embeddings"] = File.ReadAllBytes(Path.Combine(directory, ModelPackage.EmbeddingsFile)),
            };
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static async Task UploadOk(HttpClient http, ModelPackage package)
    {
        using var response = await Upload(http, package);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<ActivationReply> Activate(HttpClient http, string version)
    {
        using var response = await http.PostAsync($"/models/{version}/activate", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"activate answered {(int)response.StatusCode}: {body}");
        // Every silo's catalogue cache picks the new pointer up within its (test) TTL of 200 ms.
        await Task.Delay(400);
        return System.Text.Json.JsonSerializer.Deserialize<ActivationReply>(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
    }
}
