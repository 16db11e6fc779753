using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Recommender.Abstractions;

namespace Recommender.Grains.Ranking;

/// <summary>
/// Which version serves a user while a candidate runs beside the active one: each user draws a fixed number in [0, 1)
/// from a hash of the candidate's version and the user's id, and users whose number is below the share get the
/// candidate. The draw does not change while the candidate runs, so a user stays on one side, and raising the share
/// keeps everyone already on the candidate there; another candidate version draws another split.
/// </summary>
public static class ServingModel
{
    /// <summary>The version that serves <paramref name="userId"/> under <paramref name="snapshot"/> (which has an active model).</summary>
    public static ActiveModel For(CatalogueSnapshot snapshot, string userId)
    {
        var active = snapshot.Model ?? throw new ArgumentException("The snapshot has no active model.", nameof(snapshot));
        return snapshot.Candidate is { } candidate && Draw(candidate.Model.Version, userId) < candidate.Share ? candidate.Model : active;
    }

    /// <summary>The user's fixed number in [0, 1) for a candidate version: the top 53 bits of a SHA-256 of both.</summary>
    public static double Draw(string version, string userId)
    {
        // The version's length first, so that no two (version, user) pairs hash the same bytes.
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{version.Length}:{version}:{userId}"), hash);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>
    /// The user's bucket for an A/B test's counts, 0 to <see cref="ArmTally.Buckets"/> − 1: fixed for the user whatever
    /// the candidate, and not tied to the draw, so each side's users spread over every bucket.
    /// </summary>
    public static int Bucket(string userId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"bucket:{userId}"), hash);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(hash) % ArmTally.Buckets);
    }

    /// <summary>
    /// The side of the running candidate's test that a list belongs to; null when no candidate runs or the list was not
    /// the model's (the popular list for a user without history, which both sides get from the active version).
    /// </summary>
    public static ExperimentArm? ArmOf(CatalogueSnapshot snapshot, Abstractions.Ranking ranking) =>
        snapshot is { Candidate: { } candidate, Model: { } active } && ranking.Source == RankingSource.Model
            && (ranking.ModelVersion == candidate.Model.Version || ranking.ModelVersion == active.Version)
            ? new ExperimentArm(candidate.Model.Version, active.Version, candidate.Model.ActivatedAt, ranking.ModelVersion == candidate.Model.Version, candidate.Share)
            : null;
}
