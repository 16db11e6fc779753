using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// A request's boosts as terms added to relevance. A softmax score is exp(relevance / T) over a sum, so adding
/// T · ln(factor) to an item's relevance multiplies its weight in the list by the factor: the list is cut and its scores
/// normalised after that, which is what "this tag weighs twice as much" means to a merchandiser.
/// </summary>
public static class TagBoosts
{
    /// <summary>Each boost's tag and the term it adds to a similarity under softmax temperature <paramref name="temperature"/>; null for none.</summary>
    public static IReadOnlyList<(string Tag, float Offset)>? Offsets(IReadOnlyList<TagBoost>? boosts, double temperature) =>
        boosts is null || boosts.Count == 0 ? null : [.. boosts.Select(b => (b.Tag, (float)(temperature * Math.Log(b.Factor))))];

    /// <summary>
    /// The factor a log weight of <paramref name="logFactor"/> stands for, to six significant digits (it went through a
    /// float on its way: 2 comes back as 2, not 1.9999999), or null when no boost applied (a factor of 1).
    /// </summary>
    public static double? Factor(double logFactor)
    {
        if (logFactor == 0) return null;
        var factor = double.Parse(Math.Exp(logFactor).ToString("G6", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
        return factor == 1 ? null : factor;
    }

    /// <summary>The log of the product of the factors of those of <paramref name="boosts"/> whose tag <paramref name="tags"/> holds (ignoring case).</summary>
    public static double LogFactor(IReadOnlyList<TagBoost>? boosts, IReadOnlyList<string>? tags)
    {
        if (boosts is null || boosts.Count == 0 || tags is null || tags.Count == 0) return 0;
        double sum = 0;
        foreach (var boost in boosts)
            foreach (var tag in tags)
                if (string.Equals(tag, boost.Tag, StringComparison.OrdinalIgnoreCase))
                {
                    sum += Math.Log(boost.Factor);
                    break;
                }
        return sum;
    }
}

/// <summary>
/// What multiplies a popular item's count in the list's order and shares: the request's tag boosts and its freshness
/// boost (by the item's <c>availableFrom</c>, as of <see cref="Now"/>), each as a factor.
/// </summary>
public sealed record PopularBoosts(IReadOnlyList<TagBoost>? Tags, Freshness? Fresh = null, DateTimeOffset Now = default)
{
    /// <summary>The request's boosts as of <paramref name="now"/>; null when it gives none.</summary>
    public static PopularBoosts? Of(RecommendationRequest request, DateTimeOffset now) =>
        request.Boosts is { Length: > 0 } || request.Fresh is not null ? new(request.Boosts, request.Fresh, now) : null;

    /// <summary>The log of the product of the factors that apply to <paramref name="item"/>.</summary>
    public double LogFactor(PopularItem item) => TagBoosts.LogFactor(Tags, item.Tags) + (Fresh?.LogFactor(item.AvailableFrom, Now) ?? 0);

    /// <summary>The most any item's log count can rise: the raising tag boosts together, and freshness at its full factor.</summary>
    public double Ceiling => (Tags ?? []).Sum(b => Math.Max(0, Math.Log(b.Factor))) + (Fresh?.MaxLogFactor ?? 0);
}
