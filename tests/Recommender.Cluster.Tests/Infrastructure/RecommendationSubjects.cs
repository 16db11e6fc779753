namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>The "subject" of every recommendation-duration measurement one front end records while this listens.</summary>
public sealed class RecommendationSubjects(IServiceProvider frontEnd) : IDisposable
{
    private readonly FrontEndMeasurements _durations = new(frontEnd, "recommender.recommendation.duration");

    /// <summary>The subjects seen so far, each once, in order.</summary>
    public IReadOnlyList<string> Seen => [.. _durations.Measured.Select(m => m.Tags.GetValueOrDefault("subject", "")).Distinct().Order(StringComparer.Ordinal)];

    public void Dispose() => _durations.Dispose();
}
