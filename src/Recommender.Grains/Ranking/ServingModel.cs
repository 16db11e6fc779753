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
        var bytes = Encoding.UTF8.GetBytes($"{version.Length}:{version}:{userId}");
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) * (1.0 / (1UL << 53));
    }
}
