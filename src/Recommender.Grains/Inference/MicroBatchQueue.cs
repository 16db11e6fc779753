using System.Diagnostics;
using System.Threading.Channels;

namespace Recommender.Grains.Inference;

/// <summary>A request waiting in a <see cref="MicroBatchQueue{T}"/>.</summary>
public interface IBatchedRequest
{
    /// <summary>The units of work it adds to a batch (histories, texts).</summary>
    int Weight { get; }

    /// <summary>Fails the request with the error its batch ended in.</summary>
    void Fail(Exception error);
}

/// <summary>
/// The micro-batching loop both encoders share: requests queue up, and one loop runs them a batch at a time, so the
/// encoder's own threads are the only compute threads it uses. A batch closes when its requests weigh
/// <c>capacity</c> units or <c>window</c> after it opened; with a <see cref="ComputeGate"/>, it first takes
/// <c>threads</c> of the silo's cores. <c>run</c> settles every request of its batch; if it throws, every request still
/// open fails with that exception.
/// </summary>
public sealed class MicroBatchQueue<T> : IDisposable where T : IBatchedRequest
{
    private readonly Channel<T> _queue = Channel.CreateUnbounded<T>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Action<List<T>> _run;
    private readonly int _capacity;
    private readonly TimeSpan _window;
    private readonly ComputeGate? _gate;
    private readonly int _threads;
    private readonly bool _background;
    private readonly Task _loop;

    public MicroBatchQueue(Action<List<T>> run, int capacity, TimeSpan window, ComputeGate? gate = null, int threads = 1, bool background = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _run = run;
        _capacity = capacity;
        _window = window;
        _gate = gate;
        _threads = threads;
        _background = background;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues <paramref name="request"/>; false once the queue is disposed.</summary>
    public bool TryAdd(T request) => _queue.Writer.TryWrite(request);

    /// <summary>Whether the loop has ended, so no batch is using the encoder any more.</summary>
    public bool Stopped => _loop.IsCompleted;

    /// <summary>Takes no more requests and waits up to five seconds for the batches queued to finish.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<T>();
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            await FillAsync(reader, batch);
            using (_gate is null ? default : await _gate.EnterAsync(_threads, _background))
            {
                try
                {
                    _run(batch);
                }
                catch (Exception e)
                {
                    foreach (var request in batch) request.Fail(e);
                }
            }
        }
    }

    /// <summary>Takes what is waiting, then what arrives before the window ends, until the batch weighs the capacity.</summary>
    private async Task FillAsync(ChannelReader<T> reader, List<T> batch)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(_window.TotalSeconds * Stopwatch.Frequency);
        var filled = 0;
        while (filled < _capacity)
        {
            if (reader.TryRead(out var request)) { batch.Add(request); filled += request.Weight; continue; }
            var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (remaining <= TimeSpan.Zero) return;
            using var timeout = new CancellationTokenSource(remaining);
            try
            {
                if (!await reader.WaitToReadAsync(timeout.Token)) return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
