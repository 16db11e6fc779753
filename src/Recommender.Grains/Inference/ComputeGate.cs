namespace Recommender.Grains.Inference;

/// <summary>
/// The silo's cores as a budget shared by every ONNX Runtime session: a run takes as many cores as its session has
/// intra-op threads and waits while fewer are free, so the sequence-model encoders and the text encoder together never
/// run more compute threads than there are cores. Background runs (text encoding) also give way to any waiting
/// foreground run (a recommendation), so a bulk load delays a recommendation by at most one text batch. Waiting is
/// asynchronous: no thread is blocked while a run waits for cores.
/// </summary>
public sealed class ComputeGate(int cores)
{
    private readonly Lock _lock = new();
    private readonly List<Waiter> _waiters = [];
    private int _free = Math.Max(1, cores);

    public int Cores { get; } = Math.Max(1, cores);

    /// <summary>Completes once <paramref name="threads"/> cores (at most all of them) are free; dispose the result to give them back.</summary>
    public ValueTask<Lease> EnterAsync(int threads, bool background = false)
    {
        var wanted = Math.Clamp(threads, 1, Cores);
        Waiter waiter;
        lock (_lock)
        {
            var blocked = background ? _waiters.Count > 0 : _waiters.Any(w => !w.Background);
            if (!blocked && _free >= wanted)
            {
                _free -= wanted;
                return ValueTask.FromResult(new Lease(this, wanted));
            }
            waiter = new Waiter(wanted, background, new TaskCompletionSource<Lease>(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.Add(waiter);
        }
        return new ValueTask<Lease>(waiter.Granted.Task);
    }

    private void Release(int threads)
    {
        lock (_lock)
        {
            _free += threads;
            // Foreground first, in arrival order; background only once no foreground run is waiting.
            Grant(background: false);
            if (!_waiters.Any(w => !w.Background)) Grant(background: true);
        }
    }

    private void Grant(bool background)
    {
        for (var i = 0; i < _waiters.Count;)
        {
            var waiter = _waiters[i];
            if (waiter.Background != background) { i++; continue; }
            if (waiter.Threads > _free) return;
            _free -= waiter.Threads;
            _waiters.RemoveAt(i);
            waiter.Granted.SetResult(new Lease(this, waiter.Threads));
        }
    }

    private sealed record Waiter(int Threads, bool Background, TaskCompletionSource<Lease> Granted);

    /// <summary>Cores held by one run; the default value holds none.</summary>
    public readonly struct Lease(ComputeGate gate, int threads) : IDisposable
    {
        public void Dispose() => gate?.Release(threads);
    }
}
