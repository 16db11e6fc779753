using System.Diagnostics;
using System.Threading.Channels;

namespace Recommender.Grains.Inference;

/// <summary>How the micro-batchers close a batch: when it holds <c>capacity</c> units of work, or when the window ends.</summary>
public static class MicroBatch
{
    /// <summary>
    /// Adds waiting requests to <paramref name="batch"/> (whose contents weigh <paramref name="filled"/>) until it
    /// weighs <paramref name="capacity"/> or <paramref name="window"/> has passed since the batch opened.
    /// </summary>
    public static async Task FillAsync<T>(ChannelReader<T> reader, List<T> batch, Func<T, int> weight, int filled, int capacity, TimeSpan window)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (filled < capacity)
        {
            if (reader.TryRead(out var request)) { batch.Add(request); filled += weight(request); continue; }
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
