namespace Recommender.Grains;

/// <summary>The silo's background loops: an action on every tick of an interval, until the silo stops.</summary>
public static class Periodic
{
    public static async Task Every(TimeSpan interval, Func<Task> action, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping)) await action();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
