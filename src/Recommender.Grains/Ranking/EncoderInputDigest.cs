using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Recommender.Grains.Ranking;

/// <summary>
/// A SHA-256 digest of the item ids an encoder reads, each id after its length so that no two lists hash the same
/// bytes: 32 bytes that stand for a whole history when asking whether the encoder's input is the one seen before.
/// </summary>
public readonly record struct EncoderInputDigest(UInt128 Low, UInt128 High)
{
    public static EncoderInputDigest Of(IReadOnlyList<string> items)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[sizeof(int)];
        foreach (var item in items)
        {
            var bytes = Encoding.UTF8.GetBytes(item);
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return new EncoderInputDigest(BinaryPrimitives.ReadUInt128LittleEndian(digest), BinaryPrimitives.ReadUInt128LittleEndian(digest[16..]));
    }
}
