using Recommender.Abstractions;

namespace Recommender.Grains;

/// <summary>
/// The identity under which the ADO.NET grain storage files a user or item grain's state, and back. The provider does
/// not keep the key string: a key that reads as a hexadecimal integer or a GUID (optionally "+extension") is stored as
/// that number (columns GrainIdN0, GrainIdN1) plus the extension, any other key as the string itself. User and item
/// grains are keyed by <see cref="GrainKeys.Encode"/>, which gives every id an identity of its own.
/// </summary>
public readonly record struct StoredGrainKey(long N0, long N1, string Extension)
{
    // The key's reading does not depend on the grain type.
    private static readonly GrainType AnyGrainType = GrainType.Create("user");

    /// <summary>The storage identity of a user or item id's grain, as the provider computes it.</summary>
    public static StoredGrainKey Of(string id) => OfKey(GrainKeys.Encode(id));

    private static StoredGrainKey OfKey(string key)
    {
        var grainId = GrainId.Create(AnyGrainType, key);
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            var bytes = guid.ToByteArray();
            return new StoredGrainKey(BitConverter.ToInt64(bytes, 0), BitConverter.ToInt64(bytes, 8), guidExtension ?? "");
        }
        if (grainId.TryGetIntegerKey(out var number, out var numberExtension)) return new StoredGrainKey(0, number, numberExtension ?? "");
        return new StoredGrainKey(0, 0, key);
    }

    /// <summary>
    /// The user or item id whose grain is stored under this identity; null when no id maps here (the row is not such a
    /// grain's, or was written under a key the current encoding does not give any id).
    /// </summary>
    public string? ToId()
    {
        var suffix = Extension.Length > 0 ? "+" + Extension : "";
        string[] candidates = N0 == 0 && N1 == 0
            ? [Extension, "0" + suffix]
            : N0 == 0
                ? [N1.ToString("X", System.Globalization.CultureInfo.InvariantCulture) + suffix, GuidOf(N0, N1).ToString("N") + suffix]
                : [GuidOf(N0, N1).ToString("N") + suffix];
        foreach (var candidate in candidates)
            if (candidate.Length > 0 && OfKey(candidate) == this && GrainKeys.Encode(GrainKeys.Decode(candidate)) == candidate)
                return GrainKeys.Decode(candidate);
        return null;
    }

    private static Guid GuidOf(long n0, long n1)
    {
        var bytes = new byte[16];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), n0);
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 8), n1);
        return new Guid(bytes);
    }
}
