using System.Diagnostics;
using Recommender.Grains.Inference;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>The loop both encoders batch through: what closes a batch, what a failed batch does, and shutting down.</summary>
public sealed class MicroBatchQueueTests
{
    [Fact]
    public async Task A_full_batch_runs_without_waiting_for_the_window_and_a_heavy_request_runs_alone()
    {
        var batches = new List<int[]>();
        using var queue = new MicroBatchQueue<Request>(batch => Settle(batch, batches), capacity: 3, window: TimeSpan.FromSeconds(30));

        var clock = Stopwatch.StartNew();
        var full = Enumerable.Range(1, 3).Select(i => Add(queue, new Request(i, 1))).ToArray();
        await Task.WhenAll(full).WaitAsync(TimeSpan.FromSeconds(20));
        var heavy = await Add(queue, new Request(9, 5)).WaitAsync(TimeSpan.FromSeconds(20));

        // Well inside the 30-s window: capacity, not time, closed both batches.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"took {clock.Elapsed}");
        Assert.Equal([1, 2, 3, 9], (await Task.WhenAll(full)).Append(heavy));
        Assert.Equal(9, batches[^1].Single());
        Assert.Equal(4, batches.Sum(b => b.Length));
    }

    [Fact]
    public async Task A_batch_short_of_capacity_waits_for_the_window_and_takes_what_arrives_in_it()
    {
        var batches = new List<int[]>();
        using var queue = new MicroBatchQueue<Request>(batch => Settle(batch, batches), capacity: 100, window: TimeSpan.FromSeconds(2));

        var first = Add(queue, new Request(1, 1));
        await Task.Delay(50);
        var second = Add(queue, new Request(2, 1));
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal([1, 2], Assert.Single(batches));
    }

    [Fact]
    public async Task Without_a_window_a_lone_request_runs_at_once_and_what_arrives_meanwhile_makes_the_next_batch()
    {
        var batches = new List<int[]>();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        using var queue = new MicroBatchQueue<Request>(batch =>
        {
            running.TrySetResult();
            release.Wait(TimeSpan.FromSeconds(20));
            Settle(batch, batches);
        }, capacity: 100, window: TimeSpan.Zero);

        var first = Add(queue, new Request(1, 1));
        await running.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var later = Enumerable.Range(2, 3).Select(i => Add(queue, new Request(i, 1))).ToArray();
        release.Set();
        await Task.WhenAll(later.Append(first)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal([[1], [2, 3, 4]], batches);
    }

    [Fact]
    public async Task A_batch_that_throws_fails_each_of_its_requests_and_the_loop_goes_on()
    {
        using var queue = new MicroBatchQueue<Request>(batch =>
        {
            if (batch.Any(r => r.Value < 0)) throw new InvalidOperationException("negative value");
            Settle(batch, []);
        }, capacity: 2, window: TimeSpan.Zero);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => Add(queue, new Request(-1, 1)).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("negative value", failed.Message);
        Assert.Equal(7, await Add(queue, new Request(7, 1)).WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public void A_disposed_queue_refuses_requests_and_reports_its_loop_stopped()
    {
        var queue = new MicroBatchQueue<Request>(batch => Settle(batch, []), capacity: 1, window: TimeSpan.Zero);
        Assert.False(queue.Stopped);

        queue.Dispose();

        Assert.True(queue.Stopped);
        Assert.False(queue.TryAdd(new Request(1, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MicroBatchQueue<Request>(_ => { }, capacity: 0, window: TimeSpan.Zero));
    }

    private static Task<int> Add(MicroBatchQueue<Request> queue, Request request)
    {
        Assert.True(queue.TryAdd(request));
        return request.Result.Task;
    }

    private static void Settle(List<Request> batch, List<int[]> batches)
    {
        lock (batches) batches.Add(batch.Select(r => r.Value).ToArray());
        foreach (var request in batch) request.Result.TrySetResult(request.Value);
    }

    private sealed record Request(int Value, int Weight) : IBatchedRequest
    {
        public TaskCompletionSource<int> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Fail(Exception error) => Result.TrySetException(error);
    }
}
