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

    public Task Served(Immutable<string[]> items, Abstractions.Ranking ranking, int offset, string list, ExperimentArm? arm)
    {
        var visitor = this.GetPrimaryKeyString();
        if (_tracker.Served(items.Value, ranking, clock.GetUtcNow(), offset, list, arm) is { } next)
        {
            metrics.NextItem(next.ModelVersion, next.Source, next.Rank);
            if (next.Arm is { } side) experiments.Record(side, ServingModel.Bucket(visitor), next.Rank);
        }
        if (arm is not null && offset == 0) experiments.Served(arm, ServingModel.Bucket(visitor));
        return Task.CompletedTask;
    }
}
