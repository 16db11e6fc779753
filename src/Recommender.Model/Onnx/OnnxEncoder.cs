using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Recommender.Model.Packaging;

namespace Recommender.Model.Onnx;

/// <summary>
/// Runs a package's encoder graph in ONNX Runtime: chronological item histories in, user interest vectors out.
/// One <see cref="InferenceSession"/> serves every caller; <see cref="Encode"/> is thread-safe.
/// </summary>
public sealed class OnnxEncoder : IDisposable
{
    private static readonly string[] InputNames = [ModelPackage.EncoderInput];
    private static readonly string[] OutputNames = [ModelPackage.EncoderOutput];

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly int _itemCount;

    public OnnxEncoder(ModelPackage package, OnnxThreading? threading = null)
    {
        ArgumentNullException.ThrowIfNull(package);
        threading ??= new OnnxThreading();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threading.IntraOpThreads);
        Manifest = package.Manifest;
        _itemCount = Manifest.ItemCount;
        using var options = threading.CreateSessionOptions();
        _session = new InferenceSession(package.EncoderOnnx, options);
        CheckSignature();
    }

    public ModelManifest Manifest { get; }

    public int Dimension => Manifest.Dimension;

    public int MaxLength => Manifest.MaxLength;

    /// <summary>
    /// Encodes chronological dense-id histories (the most recent <see cref="MaxLength"/> items are kept, left-padded
    /// with 0) into row-major user vectors [histories.Count, Dimension]. An empty history yields a zero row.
    /// </summary>
    /// <exception cref="ArgumentException">An id lies outside 1..ItemCount.</exception>
    public float[] Encode(IReadOnlyList<int[]> histories)
    {
        ArgumentNullException.ThrowIfNull(histories);
        var batch = histories.Count;
        var result = new float[batch * Dimension];
        if (batch == 0) return result;
        var length = MaxLength;
        var idCount = batch * length;
        var ids = ArrayPool<long>.Shared.Rent(idCount);
        try
        {
            var anyNonEmpty = false;
            for (var b = 0; b < batch; b++)
            {
                var history = histories[b] ?? throw new ArgumentException($"History {b} is null.", nameof(histories));
                var row = ids.AsSpan(b * length, length);
                var kept = Math.Min(history.Length, length);
                row[..(length - kept)].Clear();
                var recent = history.AsSpan(history.Length - kept);
                for (var t = 0; t < kept; t++)
                {
                    var id = recent[t];
                    if (id < 1 || id > _itemCount)
                        throw new ArgumentException($"Item id {id} in history {b} is outside the model's vocabulary 1..{_itemCount}.", nameof(histories));
                    row[length - kept + t] = id;
                }
                anyNonEmpty |= kept > 0;
            }
            if (!anyNonEmpty) return result;
            using (var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, ids.AsMemory(0, idCount), [batch, length]))
            using (var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, result.AsMemory(), [batch, Dimension]))
                _session.Run(_runOptions, InputNames, [input], OutputNames, [output]);
            // The contract for a user without history is a zero vector, whatever the graph computes for an all-padding row.
            for (var b = 0; b < batch; b++)
                if (histories[b].Length == 0)
                    result.AsSpan(b * Dimension, Dimension).Clear();
            return result;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(ids);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private void CheckSignature()
    {
        if (!_session.InputMetadata.TryGetValue(ModelPackage.EncoderInput, out var input) || input.ElementType != typeof(long))
            throw new InvalidDataException($"Encoder of '{Manifest.Version}' has no int64 input '{ModelPackage.EncoderInput}'.");
        if (!_session.OutputMetadata.TryGetValue(ModelPackage.EncoderOutput, out var output) || output.ElementType != typeof(float))
            throw new InvalidDataException($"Encoder of '{Manifest.Version}' has no float output '{ModelPackage.EncoderOutput}'.");
        var dims = input.Dimensions;
        if (dims.Length != 2 || (dims[1] > 0 && dims[1] != MaxLength))
            throw new InvalidDataException($"Encoder input '{ModelPackage.EncoderInput}' has shape [{string.Join(", ", dims)}]; the manifest says [batch, {MaxLength}].");
        var outDims = output.Dimensions;
        if (outDims.Length != 2 || (outDims[1] > 0 && outDims[1] != Dimension))
            throw new InvalidDataException($"Encoder output '{ModelPackage.EncoderOutput}' has shape [{string.Join(", ", outDims)}]; the manifest says [batch, {Dimension}].");
    }
}
