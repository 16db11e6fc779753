namespace Recommender.Grains.Popularity;

/// <summary>
/// Exponentially decayed counts: a weight added at time t is worth weight · 2^(-(now - t) / halfLife) at time now.
/// Each item keeps one score at a reference time and is brought forward when touched or read.
/// </summary>
public sealed class DecayedCounts(TimeSpan halfLife)
{
    /// <summary>Scores below this are dropped when the counts are pruned.</summary>
    public const double Negligible = 1e-3;

    private readonly Dictionary<string, (double Score, DateTimeOffset At)> _scores = new(StringComparer.Ordinal);

    public int Count => _scores.Count;

    public static double Decay(TimeSpan age, TimeSpan halfLife) =>
        age <= TimeSpan.Zero ? 1.0 : Math.Pow(2, -age.TotalSeconds / halfLife.TotalSeconds);

    /// <summary>
    /// Adds <paramref name="weight"/> to the item's score; a negative weight (events taken back) takes it down, never
    /// below zero (a taking back that arrives before what it takes back, or after the count was lost, takes nothing).
    /// </summary>
    public void Add(string itemId, double weight, DateTimeOffset now)
    {
        var current = _scores.TryGetValue(itemId, out var s) ? s.Score * Decay(now - s.At, halfLife) : 0;
        _scores[itemId] = (Math.Max(0, current + weight), now);
    }

    public double ScoreOf(string itemId, DateTimeOffset now) =>
        _scores.TryGetValue(itemId, out var s) ? s.Score * Decay(now - s.At, halfLife) : 0;

    /// <summary>The <paramref name="count"/> best items by score at <paramref name="now"/>, best first (ties: by id).</summary>
    public IReadOnlyList<(string ItemId, double Score)> Top(int count, DateTimeOffset now) =>
        _scores.Select(p => (p.Key, Score: p.Value.Score * Decay(now - p.Value.At, halfLife)))
            .OrderByDescending(p => p.Score)
            .ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(count)
            .ToArray();

    /// <summary>Forgets items whose score has decayed to nothing, so a partition holds only what is still popular.</summary>
    public void Prune(DateTimeOffset now)
    {
        foreach (var (id, s) in _scores.ToArray())
            if (s.Score * Decay(now - s.At, halfLife) < Negligible) _scores.Remove(id);
    }

    public IEnumerable<(string ItemId, double Score, DateTimeOffset At)> Entries => _scores.Select(p => (p.Key, p.Value.Score, p.Value.At));

    public void Restore(string itemId, double score, DateTimeOffset at) => _scores[itemId] = (score, at);
}
