using System.Collections.Frozen;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;

namespace Recommender.Grains.Inference;

/// <summary>A model package in memory: its vocabulary (external id → dense id) and, created on first use, its one ONNX encoder.</summary>
public sealed class LoadedModel : IDisposable
{
    private readonly Lazy<OnnxEncoder> _encoder;

    public LoadedModel(ModelPackage package, OnnxThreading threading)
    {
        Package = package;
        DenseIds = package.Manifest.ItemIds
            .Select((id, index) => KeyValuePair.Create(id, index + 1))
            .ToFrozenDictionary(StringComparer.Ordinal);
        _encoder = new Lazy<OnnxEncoder>(() => new OnnxEncoder(package, threading), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ModelPackage Package { get; }

    public ModelManifest Manifest => Package.Manifest;

    public FrozenDictionary<string, int> DenseIds { get; }

    public OnnxEncoder Encoder => _encoder.Value;

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
        if (_encoder.IsValueCreated) _encoder.Value.Dispose();
    }
}
