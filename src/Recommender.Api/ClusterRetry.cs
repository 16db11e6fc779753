using Orleans.Runtime.Messaging;
using Recommender.Hosting;

namespace Recommender.Api;

/// <summary>
/// Retries an idempotent grain call that the cluster turned away before running it: a silo that is
/// shutting down rejects new messages ("silo stopping") and the grain is re-activated elsewhere a moment
/// later, so a client of a gracefully stopping silo sees no failure. Reads are idempotent; event writes are
/// too, because every event carries an id (given or derived from its content) that the user grain
/// de-duplicates, and so are item writes, which replace the item. Timeouts are not retried here: the call may
/// have run, and the client's deadline is spent (<see cref="RepeatAsync"/> gives reads and event writes shorter
/// attempts that can be repeated).
/// </summary>
public static class ClusterRetry
{
    private static readonly TimeSpan[] Delays = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400)];

    public static async Task<T> RunAsync<T>(Func<Task<T>> call)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (attempt < Delays.Length && IsRejection(e))
            {
                await Task.Delay(Delays[attempt]);
            }
        }
    }

    /// <summary>
    /// A call that may safely run twice: a read, or storing events (each carries an id the user grain de-duplicates),
    /// a single user's or a batch through the event journal. Each attempt may take <paramref name="attemptTimeout"/>;
    /// one the cluster rejected, that timed out or that was not answered in time is given up (and withdrawn when the
    /// call takes the token: a request still queued at the grain is then dropped unrun) and sent again, three attempts
    /// in all. When none is answered and one of them may have run, a
    /// <see cref="TimeoutException"/> (a write may have been carried out); when every one was rejected, the rejection.
    /// </summary>
    public static async Task<T> RepeatAsync<T>(Func<CancellationToken, Task<T>> call, TimeSpan attemptTimeout, CancellationToken aborted)
    {
        const int attempts = 3;
        var mayHaveRun = false;
        for (var attempt = 1; ; attempt++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            deadline.CancelAfter(attemptTimeout);
            try
            {
                return await call(deadline.Token);
            }
            catch (Exception e) when (!aborted.IsCancellationRequested && (IsRejection(e) || e is TimeoutException || IsDeadline(e, deadline)))
            {
                mayHaveRun |= MayHaveRun(e);
                if (attempt == attempts)
                    throw mayHaveRun
                        ? new TimeoutException($"The call was not answered in {attempts} attempts of {attemptTimeout.TotalSeconds:0.###} s each ({e.Message}).", e)
                        : e;
                if (IsRejection(e)) await Task.Delay(Delays[Math.Min(attempt, Delays.Length) - 1], aborted);
            }
        }

        static bool IsDeadline(Exception e, CancellationTokenSource deadline) => e is OperationCanceledException && deadline.IsCancellationRequested;
    }

    /// <summary>
    /// As <see cref="RepeatAsync{T}(Func{CancellationToken, Task{T}}, TimeSpan, CancellationToken)"/> for a call that takes
    /// no token: an attempt not answered in time is given up, not withdrawn, and goes on while the next is sent.
    /// </summary>
    public static Task<T> RepeatAsync<T>(Func<Task<T>> call, TimeSpan attemptTimeout, CancellationToken aborted) =>
        RepeatAsync(attempt => Within(call(), attempt), attemptTimeout, aborted);

    /// <summary>
    /// A read a write depends on (a check before anything is written): when the cluster or the store fails it, the
    /// failure is reported as one that wrote nothing, however it failed.
    /// </summary>
    public static async Task<T> BeforeWritingAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        // Not a cancellation: the client went away, and the request ends as an aborted one.
        catch (Exception e) when (e is not OperationCanceledException && (IsRejection(e) || MayHaveRun(e) || e is StorageUnavailableException))
        {
            throw new FailedBeforeWritingException(e);
        }
    }

    /// <summary>
    /// Waits for a call that cannot be withdrawn until <paramref name="attempt"/> ends; the call goes on, and its outcome,
    /// which nobody waits for any more, is observed here.
    /// </summary>
    private static Task<T> Within<T>(Task<T> call, CancellationToken attempt)
    {
        _ = call.ContinueWith(static done => done.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return call.WaitAsync(attempt);
    }

    /// <summary>
    /// Whether a call that failed so may have run all the same: it was not answered in time, or its silo was lost while
    /// it was pending. A call the cluster rejected (a stopping silo, a busy gateway, no connection) did not.
    /// </summary>
    public static bool MayHaveRun(Exception exception) =>
        exception is TimeoutException or OperationCanceledException or SiloUnavailableException;

    /// <summary>
    /// A read that must not fail while a lost silo is being declared dead (a response that is already streaming
    /// cannot turn into a 503): rejections and timeouts are retried, with growing pauses, until <paramref name="patience"/>
    /// is spent. Only for reads, which may safely run twice.
    /// </summary>
    public static async Task<T> ReadPatientlyAsync<T>(Func<Task<T>> read, TimeSpan patience, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + patience;
        var pause = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await read();
            }
            catch (Exception e) when ((IsRejection(e) || e is TimeoutException) && DateTime.UtcNow + pause < deadline)
            {
                await Task.Delay(pause, cancellation);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>The cluster refused the message before a grain ran it (or the target silo is gone).</summary>
    public static bool IsRejection(Exception exception) =>
        exception is OrleansMessageRejectionException or SiloUnavailableException or ConnectionFailedException or GatewayTooBusyException;
}

/// <summary>A request failed in a read it made before writing anything (<see cref="Exception.InnerException"/> says how).</summary>
public sealed class FailedBeforeWritingException(Exception inner) : Exception(inner.Message, inner);
