using System.Diagnostics;
using Recommender.Model.Onnx;

namespace Recommender.Grains.Inference;

/// <summary>
/// Gathers the concurrent encode requests of a silo into one ONNX Runtime call: a batch closes when it holds
/// <see cref="InferenceOptions.MaxBatch"/> histories or <see cref="InferenceOptions.BatchWindow"/> after its first
/// one arrived. One loop per model version runs the batches one after another, so the session's intra-op threads
/// are the only compute threads it uses; with a <see cref="ComputeGate"/>, each batch first takes that many of the
/// silo's cores.
/// </summary>
public sealed class EncodeBatcher : IDisposable
{
    private readonly Func<OnnxEncoder> _encoder;
    private readonly ServingMetrics? _metrics;
    private readonly string _version;
    private readonly MicroBatchQueue<Pending> _queue;

    public EncodeBatcher(string version, Func<OnnxEncoder> encoder, InferenceOptions options, ServingMetrics? metrics, ComputeGate? gate = null)
    {
        _version = version;
        _encoder = encoder;
        _metrics = metrics;
        _queue = new MicroBatchQueue<Pending>(Run, options.MaxBatch, options.BatchWindow, gate, options.Threading.IntraOpThreads);
    }

    /// <summary>The interest vector of one dense history, computed in whichever batch it joins.</summary>
    public Task<float[]> EncodeAsync(int[] denseHistory)
    {
        var pending = new Pending(denseHistory, Stopwatch.GetTimestamp(), new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.TryAdd(pending)) throw new ObjectDisposedException(nameof(EncodeBatcher), $"The encoder of '{_version}' is shut down.");
        return pending.Result.Task;
    }

    /// <summary>Whether the loop has ended, so no batch is using the encoder any more.</summary>
    public bool Stopped => _queue.Stopped;

    /// <summary>Takes no more requests and waits up to five seconds for the batches queued to finish.</summary>
    public void Dispose() => _queue.Dispose();

    private void Run(List<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var encoder = _encoder();
        var vectors = encoder.Encode(batch.Select(p => p.History).ToArray());
        var dimension = encoder.Dimension;
        _metrics?.Batch(_version, batch.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        for (var i = 0; i < batch.Count; i++)
        {
            _metrics?.Encoded(Stopwatch.GetElapsedTime(batch[i].Queued).TotalMilliseconds);
            batch[i].Result.TrySetResult(vectors.AsSpan(i * dimension, dimension).ToArray());
        }
    }

    private sealed record Pending(int[] History, long Queued, TaskCompletionSource<float[]> Result) : IBatchedRequest
    {
        public int Weight => 1;

        public void Fail(Exception error) => Result.TrySetException(error);
    }
}
