using System.Diagnostics;
using System.Threading.Channels;
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
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<OnnxEncoder> _encoder;
    private readonly InferenceOptions _options;
    private readonly ServingMetrics? _metrics;
    private readonly string _version;
    private readonly Task _loop;
    private readonly ComputeGate? _gate;

    public EncodeBatcher(string version, Func<OnnxEncoder> encoder, InferenceOptions options, ServingMetrics? metrics, ComputeGate? gate = null)
    {
        _gate = gate;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBatch);
        _version = version;
        _encoder = encoder;
        _options = options;
        _metrics = metrics;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The interest vector of one dense history, computed in whichever batch it joins.</summary>
    public Task<float[]> EncodeAsync(int[] denseHistory)
    {
        var pending = new Pending(denseHistory, Stopwatch.GetTimestamp(), new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(EncodeBatcher), $"The encoder of '{_version}' is shut down.");
        return pending.Result.Task;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>(_options.MaxBatch);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < _options.MaxBatch && reader.TryRead(out var p)) batch.Add(p);
            if (batch.Count < _options.MaxBatch && _options.BatchWindow > TimeSpan.Zero)
                await MicroBatch.FillAsync(reader, batch, _ => 1, batch.Count, _options.MaxBatch, _options.BatchWindow);
            using (_gate is null ? default : await _gate.EnterAsync(_options.Threading.IntraOpThreads))
                Run(batch);
        }
    }

    private void Run(List<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
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
        catch (Exception e)
        {
            foreach (var p in batch) p.Result.TrySetException(e);
        }
    }

    /// <summary>Whether the loop has ended, so no batch is using the encoder any more.</summary>
    public bool Stopped => _loop.IsCompleted;

    /// <summary>Takes no more requests and waits up to five seconds for the batches queued to finish.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    private sealed record Pending(int[] History, long Queued, TaskCompletionSource<float[]> Result);
}
