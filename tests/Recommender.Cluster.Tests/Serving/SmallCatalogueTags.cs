using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>
/// The small catalogue's tags: even movies are Drama and Romance, odd ones Action and Thriller. Other tests add items
/// of their own (other ids, other tags) to the serving cluster, so only the movies' tags are known.
/// </summary>
internal static class SmallCatalogueTags
{
    public static bool Movie(RecommendedItemReply item) => int.TryParse(item.Id, out var id) && id is >= 1 and <= Infrastructure.SmallCatalogue.Movies;

    /// <summary>Drama and Romance.</summary>
    public static bool Even(RecommendedItemReply item) => Movie(item) && int.Parse(item.Id) % 2 == 0;

    /// <summary>Action and Thriller.</summary>
    public static bool Odd(RecommendedItemReply item) => Movie(item) && int.Parse(item.Id) % 2 == 1;
}
