using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Inference;
using Recommender.Model.Text;

namespace Recommender.Grains.Text;

/// <summary>
/// The silo's one sentence encoder (created on first use) behind its micro-batcher: item details in, raw text vectors
/// (<see cref="SentenceTextEncoder.Dimension"/> float32 values, L2-normalised) out. Shared by every grain on the silo.
/// Every batch runs inside the silo's <see cref="ComputeGate"/> as background work: it takes its threads' cores and gives
/// way to waiting sequence-model batches, so recommendations keep their cores during a bulk load.
/// </summary>
public sealed class TextEncoding : IDisposable
{
    private readonly Lazy<SentenceTextEncoder> _encoder;
    private readonly Lazy<TextBatcher> _batcher;

    public TextEncoding(IOptions<TextEncoderOptions> options, ComputeGate gate, ServingMetrics? metrics = null)
    {
        var settings = options.Value;
        Enabled = settings.Enabled;
        var threads = settings.ResolveThreads(gate.Cores);
        _encoder = new Lazy<SentenceTextEncoder>(() => new SentenceTextEncoder(threads), LazyThreadSafetyMode.ExecutionAndPublication);
        _batcher = new Lazy<TextBatcher>(() => new TextBatcher(texts => _encoder.Value.Encode(texts), settings.MaxBatch, settings.BatchWindow,
            metrics is null ? null : (size, ms) => metrics.Batch(SentenceTextEncoder.ModelName, size, ms), gate, threads), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public bool Enabled { get; }

    /// <summary>The sentence the encoder reads for an item (the template shared with training).</summary>
    public static string Compose(ItemDetails item) => ItemText.Compose(item.Title, item.Text, item.Tags);

    /// <summary>Raw text vectors of <paramref name="texts"/> as float32 bytes, one array per text.</summary>
    public async Task<byte[][]> EncodeAsync(IReadOnlyList<string> texts)
    {
        if (!Enabled) throw new InvalidOperationException("Text encoding is disabled (Recommender:TextEncoder:Enabled).");
        var vectors = await _batcher.Value.EncodeAsync(texts);
        return vectors.Select(v => VectorBytes.FromFloats(v)).ToArray();
    }

    public void Dispose()
    {
        if (_batcher.IsValueCreated) _batcher.Value.Dispose();
        // A batch still running after the batcher's wait keeps the session: disposing it under ONNX Runtime would
        // free memory the run is still writing to.
        if (_encoder.IsValueCreated && (!_batcher.IsValueCreated || _batcher.Value.Stopped)) _encoder.Value.Dispose();
    }
}
