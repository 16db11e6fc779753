using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>
/// Every measurement one front end records of one instrument while this listens, with its tags (a meter of its own:
/// other hosts run in the test process).
/// </summary>
public sealed class FrontEndMeasurements : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(double Value, Dictionary<string, string> Tags)> _measured = [];

    public FrontEndMeasurements(IServiceProvider frontEnd, string instrument)
    {
        var meters = frontEnd.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (published, l) =>
        {
            if (published.Meter.Scope == meters && published.Name == instrument) l.EnableMeasurementEvents(published);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => Add(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) => Add(value, tags));
        _listener.Start();
    }

    private void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags) named[tag.Key] = tag.Value?.ToString() ?? "";
        _measured.Enqueue((value, named));
    }

    /// <summary>The measurements so far, in the order recorded.</summary>
    public IReadOnlyList<(double Value, Dictionary<string, string> Tags)> Measured => [.. _measured];

    /// <summary>The sum of the measurements whose tags hold each of <paramref name="tags"/> (a tag not recorded reads as empty).</summary>
    public double Sum(params (string Key, string Value)[] tags) =>
        _measured.Where(m => tags.All(t => m.Tags.GetValueOrDefault(t.Key, "") == t.Value)).Sum(m => m.Value);

    public void Dispose() => _listener.Dispose();
}
