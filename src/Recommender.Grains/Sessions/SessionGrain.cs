using Recommender.Abstractions;
using Recommender.Grains.Catalogue;
using Recommender.Grains.Ranking;

namespace Recommender.Grains.Sessions;

/// <summary>
/// Recommendations for a history sent with the request (an anonymous visitor's session), ranked exactly as a user
/// grain ranks the same stored history, without storing anything: nothing to keep, so a stateless pool on every silo,
/// reentrant so that a worker waiting on the encoder or the shards takes the next session. The silo's recent session
/// vectors are reused for the same items under the same version.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class SessionGrain(CatalogueCache catalogue, HistoryRanker ranker, SessionVectorCache vectors) : Grain, ISessionGrain
{
    public Task<Abstractions.Ranking> Recommend(Immutable<string[]> items, RecommendationRequest request, CancellationToken cancellation) =>
        RecommendFor(items, null, request, cancellation);

    public async Task<Abstractions.Ranking> RecommendFor(Immutable<string[]> items, string? visitorId, RecommendationRequest request, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        var snapshot = await catalogue.GetAsync();
        if (snapshot.Model is null || snapshot.Loading) return HistoryRanker.NotReady;
        // A visitor is drawn for a candidate as a user is; a session without one stays on the active version.
        var model = visitorId is null ? snapshot.Model : ServingModel.For(snapshot, visitorId);
        var history = items.Value;
        var recent = ranker.EncoderInput(model.Version, (count, known) => history.Where(known).TakeLast(count).ToArray());
        var cached = vectors.TryGet(model.Version, recent, out var vector);
        if (!cached)
        {
            vector = await ranker.Encode(model.Version, recent, "a session");
            vectors.Set(model.Version, recent, vector);
        }
        var ranking = await ranker.Rank(snapshot, model, request, history.Distinct(StringComparer.Ordinal), [], vector, cached,
            () => Enumerable.Reverse(history).Distinct(StringComparer.Ordinal).Take(HistoryExplanations.RecentItems).ToArray());
        // A visitor's sessions say what they did after each list: counted as a user's next events are (one-way, not waited for).
        if (visitorId is not null)
            await GrainFactory.GetGrain<IVisitorGrain>(visitorId).Served(items, ranking, request.Offset, Users.NextItemTracker.ListOf(request), ServingModel.ArmOf(snapshot, ranking),
                request.Scenario);
        return ranking;
    }
}
