using System.Numerics.Tensors;
using Recommender.Cluster.Tests.Serving;
using Recommender.Hosting.Demo;
using Recommender.Model.Packaging;
using Recommender.Model.Text;

namespace Recommender.Cluster.Tests.Text;

/// <summary>
/// Model packages with a text projection, built inside the tests: the recency-mean baseline of the seeded ratings plus
/// a ridge regression from the items' MiniLM text vectors (their texts composed exactly as the cluster composes them)
/// to the baseline's item vectors, exported as text_projection.onnx.
/// </summary>
public static class TextPackages
{
    private static readonly Lazy<SentenceTextEncoder> Encoder = new(() => new SentenceTextEncoder(1));

    public static float[][] Encode(IReadOnlyList<string> texts) => Encoder.Value.Encode(texts);

    /// <summary>The baseline over the seed's ratings, with a projection fitted on the seed's items.</summary>
    public static ModelPackage WithProjection(string seedDirectory, string version, int dimension, double ridge = 0.05)
    {
        var baseline = TestPackages.Baseline(Path.Combine(seedDirectory, MovieLensCatalogue.RatingsFile), version, dimension);
        var items = MovieLensCatalogue.Load(seedDirectory).Items.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var ids = baseline.Manifest.ItemIds;
        var texts = ids.Select(id => ItemText.Compose(items[id].Title, items[id].Text, items[id].Tags)).ToArray();
        var x = Encode(texts);
        var y = Enumerable.Range(1, ids.Count).Select(dense =>
        {
            var row = baseline.ItemVector(dense).ToArray();
            TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
            return row;
        }).ToArray();
        var (weight, bias) = FitRidge(x, y, ridge);
        var projection = TextProjectionGraph.Build(weight, bias, SentenceTextEncoder.Dimension, dimension);
        var manifest = baseline.Manifest with
        {
            ItemRepresentation = ItemRepresentations.IdAndText,
            TextEncoder = SentenceTextEncoder.ModelName,
            TextDimension = SentenceTextEncoder.Dimension,
            TextTemplate = ItemText.Template,
        };
        return new ModelPackage(manifest, baseline.EncoderOnnx, baseline.ItemEmbeddings, projection);
    }

    /// <summary>The four upload parts of a package with a projection.</summary>
    public static Dictionary<string, byte[]> Files(ModelPackage package) =>
        new(TestPackages.Files(package)) { ["text_projection"] = package.TextProjectionOnnx! };

    public static async Task UploadOk(HttpClient http, ModelPackage package)
    {
        using var response = await TestPackages.Upload(http, Files(package));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Ridge regression y ≈ x·W + b in its dual form (n items ≪ 384 features): centre both sides, solve
    /// (XXᵀ + λI)A = Y, then W = XᵀA and b = mean(y) − mean(x)·W. W is [features, outputs] row-major.
    /// </summary>
    public static (float[] Weight, float[] Bias) FitRidge(float[][] x, float[][] y, double ridge)
    {
        int n = x.Length, features = x[0].Length, outputs = y[0].Length;
        var meanX = new double[features];
        var meanY = new double[outputs];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < features; f++) meanX[f] += x[i][f] / n;
            for (var o = 0; o < outputs; o++) meanY[o] += y[i][o] / n;
        }
        var xc = new double[n, features];
        var yc = new double[n, outputs];
        for (var i = 0; i < n; i++)
        {
            for (var f = 0; f < features; f++) xc[i, f] = x[i][f] - meanX[f];
            for (var o = 0; o < outputs; o++) yc[i, o] = y[i][o] - meanY[o];
        }
        var gram = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double dot = 0;
                for (var f = 0; f < features; f++) dot += xc[i, f] * xc[j, f];
                gram[i, j] = dot + (i == j ? ridge : 0);
            }
        var a = Solve(gram, yc);
        var weight = new float[features * outputs];
        for (var f = 0; f < features; f++)
            for (var o = 0; o < outputs; o++)
            {
                double w = 0;
                for (var i = 0; i < n; i++) w += xc[i, f] * a[i, o];
                weight[f * outputs + o] = (float)w;
            }
        var bias = new float[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double b = meanY[o];
            for (var f = 0; f < features; f++) b -= meanX[f] * weight[f * outputs + o];
            bias[o] = (float)b;
        }
        return (weight, bias);
    }

    /// <summary>Gaussian elimination with partial pivoting: the solution of m·s = rhs (m is overwritten).</summary>
    private static double[,] Solve(double[,] m, double[,] rhs)
    {
        int n = m.GetLength(0), k = rhs.GetLength(1);
        var s = (double[,])rhs.Clone();
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++) if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col])) pivot = r;
            if (pivot != col)
            {
                for (var c = 0; c < n; c++) (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
                for (var c = 0; c < k; c++) (s[col, c], s[pivot, c]) = (s[pivot, c], s[col, c]);
            }
            for (var r = col + 1; r < n; r++)
            {
                var factor = m[r, col] / m[col, col];
                if (factor == 0) continue;
                for (var c = col; c < n; c++) m[r, c] -= factor * m[col, c];
                for (var c = 0; c < k; c++) s[r, c] -= factor * s[col, c];
            }
        }
        for (var row = n - 1; row >= 0; row--)
            for (var c = 0; c < k; c++)
            {
                var sum = s[row, c];
                for (var j = row + 1; j < n; j++) sum -= m[row, j] * s[j, c];
                s[row, c] = sum / m[row, row];
            }
        return s;
    }
}
