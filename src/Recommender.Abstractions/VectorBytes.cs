using System.Runtime.InteropServices;

namespace Recommender.Abstractions;

/// <summary>Float vectors travel between grains as raw bytes: Orleans copies byte arrays in one block, float arrays element by element.</summary>
public static class VectorBytes
{
    public static byte[] FromFloats(ReadOnlySpan<float> vector) => MemoryMarshal.AsBytes(vector).ToArray();

    public static float[] ToFloats(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
            throw new ArgumentException($"{bytes.Length} bytes are not a whole number of float32 values.", nameof(bytes));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    public static ReadOnlySpan<float> AsFloats(ReadOnlySpan<byte> bytes) => MemoryMarshal.Cast<byte, float>(bytes);
}
