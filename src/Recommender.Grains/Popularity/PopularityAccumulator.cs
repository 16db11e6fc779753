using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Recommender.Abstractions;

namespace Recommender.Grains.Popularity;

/// <summary>
/// Each silo's in-memory sum of the events its user grains accepted (dismissals aside), weighted by their age at
/// arrival; drained every few seconds into the partition grains, so no grain sees every event.
/// </summary>
public sealed class PopularityAccumulator(IOptions<ServingOptions> options, TimeProvider clock)
{
    private ConcurrentDictionary<string, double> _pending = new(StringComparer.Ordinal);

    public void Record(IEnumerable<UserEvent> events) => Add(events, +1);

    /// <summary>
    /// Takes back events recorded before (taken back by the user, or the user erased): each weighs now what it adds
    /// today, since a weight decays from its event's time whenever it was added, so the two cancel.
    /// </summary>
    public void Retract(IEnumerable<UserEvent> events) => Add(events, -1);

    private void Add(IEnumerable<UserEvent> events, int sign)
    {
        var now = clock.GetUtcNow();
        var halfLife = options.Value.Popularity.HalfLife;
        foreach (var e in events)
        {
            if (!e.Type.IsInterest()) continue;
            var weight = DecayedCounts.Decay(now - e.Timestamp, halfLife);
            // A back-filled old event (e.g. a history import) adds nothing worth sending.
            if (weight < DecayedCounts.Negligible) continue;
            weight *= sign;
            _pending.AddOrUpdate(e.ItemId, weight, (_, w) => w + weight);
        }
    }

    /// <summary>Takes everything accumulated so far.</summary>
    public IReadOnlyDictionary<string, double> Drain() => Interlocked.Exchange(ref _pending, new ConcurrentDictionary<string, double>(StringComparer.Ordinal));

    /// <summary>Puts back a drained batch whose flush failed, so that it goes with the next one.</summary>
    public void Return(IReadOnlyDictionary<string, double> drained)
    {
        foreach (var (id, weight) in drained) _pending.AddOrUpdate(id, weight, (_, w) => w + weight);
    }
}
