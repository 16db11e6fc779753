using System.Diagnostics;
using Recommender.Grains.Inference;

namespace Recommender.Grains.Text;

/// <summary>
/// Gathers the concurrent text-encoding requests of a silo into one encoder call: a batch closes when it holds
/// <see cref="TextEncoderOptions.MaxBatch"/> texts or <see cref="TextEncoderOptions.BatchWindow"/> after its first
/// request arrived. One loop runs the batches one after another, so the session's intra-op threads are the only
/// compute threads text encoding uses; with a <see cref="ComputeGate"/>, each batch first takes that many of the
/// silo's cores, as background work.
/// </summary>
public sealed class TextBatcher : IDisposable
{
    private readonly Func<IReadOnlyList<string>, float[][]> _encode;
    private readonly Action<int, double>? _batchDone;
    private readonly MicroBatchQueue<Pending> _queue;

    /// <param name="encode">Encodes a list of texts (row i = text i); runs on the batcher's loop, one call at a time.</param>
    /// <param name="batchDone">Told the size and duration (ms) of every batch.</param>
    /// <param name="gate">The silo's core budget; each batch takes <paramref name="threads"/> cores from it.</param>
    public TextBatcher(Func<IReadOnlyList<string>, float[][]> encode, int maxBatch, TimeSpan window, Action<int, double>? batchDone = null, ComputeGate? gate = null, int threads = 1)
    {
        _encode = encode;
        _batchDone = batchDone;
        _queue = new MicroBatchQueue<Pending>(Run, maxBatch, window, gate, threads, background: true);
    }

    /// <summary>The vectors of <paramref name="texts"/> (row i = text i), computed in whichever batch the request joins.</summary>
    public Task<float[][]> EncodeAsync(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return Task.FromResult(Array.Empty<float[]>());
        var pending = new Pending(texts, new TaskCompletionSource<float[][]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.TryAdd(pending)) throw new ObjectDisposedException(nameof(TextBatcher), "The text encoder is shut down.");
        return pending.Result.Task;
    }

    /// <summary>Whether the loop has ended, so no batch is using the encoder any more.</summary>
    public bool Stopped => _queue.Stopped;

    /// <summary>Takes no more requests and waits up to five seconds for the batches queued to finish.</summary>
    public void Dispose() => _queue.Dispose();

    private void Run(List<Pending> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var all = batch.Count == 1 ? batch[0].Texts : batch.SelectMany(p => p.Texts).ToArray();
        var vectors = _encode(all);
        _batchDone?.Invoke(all.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        var offset = 0;
        foreach (var p in batch)
        {
            p.Result.TrySetResult(vectors.AsSpan(offset, p.Texts.Count).ToArray());
            offset += p.Texts.Count;
        }
    }

    private sealed record Pending(IReadOnlyList<string> Texts, TaskCompletionSource<float[][]> Result) : IBatchedRequest
    {
        public int Weight => Texts.Count;

        public void Fail(Exception error) => Result.TrySetException(error);
    }
}
