namespace Recommender.Cluster.Tests.Serving;

// The registry's JSON as a client reads it.
public sealed record ModelReply(string Version, string Kind, int Dimension, int MaxLength, string Similarity, int ItemCount, string State,
    DateTimeOffset RegisteredAt, DateTimeOffset? ActivatedAt, bool Fallback, Dictionary<string, double>? Metrics = null, DateTimeOffset? RetiredAt = null);

public sealed record ModelsReply(string? Active, List<ModelReply> Models, string? RollbackTarget = null,
    string? Candidate = null, double? CandidateShare = null, DateTimeOffset? CandidateSince = null);

public sealed record CandidateReply(string Candidate, double Share, string Active, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue);

public sealed record ActivationReply(string Active, string? Previous, int Shards, int CarriedItems, List<string> NotRecommendable, int NotInCatalogue = -1);
