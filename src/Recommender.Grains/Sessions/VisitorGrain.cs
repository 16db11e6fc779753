using Microsoft.Extensions.Options;
using Recommender.Abstractions;
using Recommender.Grains.Experiments;
using Recommender.Grains.Inference;
using Recommender.Grains.Ranking;
using Recommender.Grains.Users;

namespace Recommender.Grains.Sessions;

/// <summary>
/// An anonymous visitor's lists and what they did next (key: the session's visitorId), counted as a user's are: the live
/// next-item instruments and, while a candidate runs, its A/B test. Memory only, like a user's last list; sessions are
/// still served without it.
/// </summary>
public sealed class VisitorGrain(ExperimentAccumulator experiments, ServingMetrics metrics, TimeProvider clock, IOptions<ServingOptions> options)
    : Grain, IVisitorGrain
{
    private readonly VisitorTracker _tracker = new(options.Value.NextItemWindow);
    private int? _bucket;

    /// <summary>The visitor's bucket in A/B test counts (a hash of the id, worked out once).</summary>
    private int Bucket => _bucket ??= ServingModel.Bucket(this.GetPrimaryKeyString());

    public Task Served(Immutable<string[]> items, Abstractions.Ranking ranking, int offset, string list, ExperimentArm? arm, string? scenario = null)
    {
        if (_tracker.Served(items.Value, ranking, clock.GetUtcNow(), offset, list, arm, scenario) is { } next)
        {
            metrics.NextItem(next.ModelVersion, next.Source, next.Rank, next.Scenario);
            if (next.Arm is { } side) experiments.Record(side, Bucket, next.Rank, next.Scenario);
        }
        if (arm is not null && offset == 0) experiments.Served(arm, Bucket, scenario);
        return Task.CompletedTask;
    }
}
