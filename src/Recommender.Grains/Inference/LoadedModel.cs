using System.Collections.Frozen;
using Recommender.Abstractions;
using Recommender.Model.Onnx;
using Recommender.Model.Packaging;
using Recommender.Model.Text;

namespace Recommender.Grains.Inference;

/// <summary>
/// A model package in memory: its vocabulary (external id → dense id) and, created on first use, its one ONNX
/// encoder behind the silo's micro-batcher and its text projection when the package has one.
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly Lazy<OnnxEncoder> _encoder;
    private readonly Lazy<EncodeBatcher> _batcher;
    private readonly Lazy<TextProjectionSession>? _projection;
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ServingMetrics? _metrics;
    private int _leases;
    private int _retired;
    private int _disposing;
    private int _disposedOnce;
    private long _lastUsed = Environment.TickCount64;

    public LoadedModel(ModelPackage package, OnnxThreading threading, InferenceOptions? batching = null, ServingMetrics? metrics = null, ComputeGate? gate = null)
    {
        Package = package;
        DenseIds = package.Manifest.ItemIds
            .Select((id, index) => KeyValuePair.Create(id, index + 1))
            .ToFrozenDictionary(StringComparer.Ordinal);
        _metrics = metrics;
        _encoder = new Lazy<OnnxEncoder>(() =>
        {
            var encoder = new OnnxEncoder(package, threading);
            metrics?.SessionOpened(package.Manifest.Version);
            return encoder;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
        _batcher = new Lazy<EncodeBatcher>(() => new EncodeBatcher(package.Manifest.Version, () => _encoder.Value, batching ?? new InferenceOptions(), metrics, gate),
            LazyThreadSafetyMode.ExecutionAndPublication);
        // A projection is one small matrix product: one thread, whatever the encoder uses. It is only usable on the
        // vectors of the encoder it was trained on, which is the one every silo runs.
        if (package.HasTextProjection && package.Manifest.TextEncoder == SentenceTextEncoder.ModelName && package.Manifest.TextDimension == SentenceTextEncoder.Dimension)
            _projection = new Lazy<TextProjectionSession>(() => new TextProjectionSession(package, new OnnxThreading(1, false)), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public ModelPackage Package { get; }

    public ModelManifest Manifest => Package.Manifest;

    public FrozenDictionary<string, int> DenseIds { get; }

    public OnnxEncoder Encoder => _encoder.Value;

    /// <summary>Encodes one history together with whatever other requests arrive in the same batch window.</summary>
    public EncodeBatcher Batcher => _batcher.Value;

    public bool IsCosine => Manifest.Similarity == SimilarityKinds.Cosine;

    public bool HasTextProjection => _projection is not null;

    /// <summary>
    /// Item vectors (float32 bytes, one array per input) for raw text vectors of the package's text dimension;
    /// throws when the package has no projection.
    /// </summary>
    public byte[][] Project(IReadOnlyList<byte[]> textVectors)
    {
        if (_projection is null) throw new InvalidOperationException($"Model '{Manifest.Version}' has no {ModelPackage.TextProjectionFile}.");
        if (textVectors.Count == 0) return [];
        // A lease keeps an unload from disposing the session mid-call.
        if (!TryAcquire()) throw new ObjectDisposedException(nameof(LoadedModel), $"Model '{Manifest.Version}' was unloaded from this silo; retry.");
        try
        {
            return Project(_projection.Value, textVectors);
        }
        finally
        {
            Release();
        }
    }

    private byte[][] Project(TextProjectionSession session, IReadOnlyList<byte[]> textVectors)
    {
        var width = session.TextDimension;
        var input = new float[textVectors.Count * width];
        for (var i = 0; i < textVectors.Count; i++)
        {
            var row = VectorBytes.AsFloats(textVectors[i]);
            if (row.Length != width)
                throw new ArgumentException($"Text vector {i} has {row.Length} values; model '{Manifest.Version}' projects {width}.", nameof(textVectors));
            row.CopyTo(input.AsSpan(i * width, width));
        }
        var output = session.Project(input, textVectors.Count);
        var dimension = session.Dimension;
        var result = new byte[textVectors.Count][];
        for (var i = 0; i < result.Length; i++) result[i] = VectorBytes.FromFloats(output.AsSpan(i * dimension, dimension));
        return result;
    }

    /// <summary>Dense ids of the known items of a history, in order; unknown ids (items added after training) are skipped.</summary>
    public int[] ToDense(IEnumerable<string> itemIds)
    {
        var dense = new List<int>();
        foreach (var id in itemIds)
            if (DenseIds.TryGetValue(id, out var d)) dense.Add(d);
        return dense.ToArray();
    }

    /// <summary>Whether this silo holds an open ONNX Runtime session of the encoder.</summary>
    public bool HasOpenSession => _encoder.IsValueCreated && !_disposed.Task.IsCompleted;

    /// <summary>Time since the last encode finished (or since loading).</summary>
    public TimeSpan IdleFor => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastUsed));

    /// <summary>Completes once the sessions are disposed.</summary>
    public Task Disposed => _disposed.Task;

    /// <summary>
    /// Takes a lease for one use of the sessions; false once the model is retired (the caller loads it again).
    /// Every successful call is paired with <see cref="Release"/>.
    /// </summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 0) return true;
        Release();
        return false;
    }

    public void Release()
    {
        Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) != 0) DisposeSessions();
    }

    /// <summary>No new leases from now on; the sessions are disposed as soon as the last lease is released.</summary>
    public void Retire()
    {
        // A full fence between setting the flag and reading the count, as TryAcquire has between its two steps:
        // with a plain write the read could overtake it, and a lease taken meanwhile would see the model still
        // live while this call disposes the sessions under it.
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _leases) == 0) DisposeSessions();
    }

    // Off the caller's thread: disposing the batcher waits for its loop, which must not hold up a grain turn.
    private void DisposeSessions()
    {
        if (Interlocked.Exchange(ref _disposing, 1) == 0) _ = Task.Run(Dispose);
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposing, 1);
        if (Interlocked.Exchange(ref _disposedOnce, 1) != 0) return;
        if (_batcher.IsValueCreated) _batcher.Value.Dispose();
        // A batch still running after the batcher's wait (only a shutdown disposes with leases out) keeps its
        // session: disposing it would free memory ONNX Runtime is still writing to.
        if (_encoder.IsValueCreated && (!_batcher.IsValueCreated || _batcher.Value.Stopped))
        {
            _encoder.Value.Dispose();
            _metrics?.SessionClosed(Manifest.Version);
        }
        if (_projection is { IsValueCreated: true }) _projection.Value.Dispose();
        _disposed.TrySetResult();
    }
}
