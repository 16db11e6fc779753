using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>
/// The "subject" of every recommendation-duration measurement one front end records while this listens (a meter of its
/// own: other hosts run in the test process).
/// </summary>
public sealed class RecommendationSubjects : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentBag<string> _subjects = [];

    public RecommendationSubjects(IServiceProvider frontEnd)
    {
        var meters = frontEnd.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Name == "recommender.recommendation.duration") l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "subject") _subjects.Add((string)tag.Value!);
        });
        _listener.Start();
    }

    /// <summary>The subjects seen so far, each once, in order.</summary>
    public IReadOnlyList<string> Seen => [.. _subjects.Distinct().Order(StringComparer.Ordinal)];

    public void Dispose() => _listener.Dispose();
}
