using System.Collections.Frozen;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Inference;

/// <summary>
/// A model package in memory: its vocabulary (external id → dense id) and, created on first use, its one ONNX
/// encoder behind the silo's micro-batcher.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly Lazy<OnnxEncoder> _encoder;
    private readonly Lazy<EncodeBatcher> _batcher;

    public LoadedModel(ModelPackage package, OnnxThreading threading, InferenceOptions? batching = null, ServingMetrics? metrics = null)
    {
        Package = package;
        DenseIds = package.Manifest.ItemIds
            .Select((id, index) => KeyValuePair.Create(id, index + 1))
            .ToFrozenDictionary(StringComparer.Ordinal);
        _encoder = new Lazy<OnnxEncoder>(() => new OnnxEncoder(package, threading), LazyThreadSafetyMode.ExecutionAndPublication);
        _batcher = new Lazy<EncodeBatcher>(() => new EncodeBatcher(package.Manifest.Version, () => _encoder.Value, batching ?? new InferenceOptions(), metrics),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ModelPackage Package { get; }

    public ModelManifest Manifest => Package.Manifest;

    public FrozenDictionary<string, int> DenseIds { get; }

    public OnnxEncoder Encoder => _encoder.Value;

    /// <summary>Encodes one history together with whatever other requests arrive in the same batch window.</summary>
    public EncodeBatcher Batcher => _batcher.Value;

    public bool IsCosine => Manifest.Similarity == SimilarityKinds.Cosine;

    /// <summary>Dense ids of the known items of a history, in order; unknown ids (items added after training) are skipped.</summary>
    public int[] ToDense(IEnumerable<string> itemIds)
    {
        var dense = new List<int>();
        foreach (var id in itemIds)
            if (DenseIds.TryGetValue(id, out var d)) dense.Add(d);
        return dense.ToArray();
    }

    public void Dispose()
    {
        if (_batcher.IsValueCreated) _batcher.Value.Dispose();
        if (_encoder.IsValueCreated) _encoder.Value.Dispose();
    }
}
