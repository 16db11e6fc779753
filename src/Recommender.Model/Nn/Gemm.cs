using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Recommender.Model.Nn;

/// <summary>
/// Single-precision matrix product C[m, n] (+)= A[m, k] · B[k, n]. B and C are row-major; A is read through
/// a row and a column stride, so A or its transpose can be used without copying. The inner kernel keeps a
/// 4 × 64 tile of C in sixteen 512-bit registers and streams B rows with fused multiply-adds; k is blocked so
/// that the B panel stays in cache. When several row tiles share a 64-column panel of B, the panel is first copied
/// into a contiguous buffer: B rows a power-of-two multiple of 64 bytes apart fall into a few cache sets and evict
/// one another. Every element of C is still summed over k in the same order, so the result is the same bit for bit.
/// </summary>
public static unsafe class Gemm
{
    private const int KBlock = 256;
    // Rows that must share a panel of B before copying it pays for itself.
    private const int PackFromRows = 8;

    [ThreadStatic] private static float[]? _panel;

    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int aRowStride, int aColStride,
        ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        if ((long)(m - 1) * ldc + n > c.Length) throw new ArgumentException($"C holds {c.Length} values; {m}x{n} with stride {ldc} needs more.", nameof(c));
        if (k <= 0)
        {
            if (!accumulate)
                for (var i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        if ((long)(m - 1) * aRowStride + (long)(k - 1) * aColStride >= a.Length) throw new ArgumentException($"A holds {a.Length} values; too few for {m}x{k}.", nameof(a));
        if ((long)(k - 1) * ldb + n > b.Length) throw new ArgumentException($"B holds {b.Length} values; too few for {k}x{n}.", nameof(b));
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            Core(m, n, k, pa, aRowStride, aColStride, pb, ldb, pc, ldc, accumulate);
    }

    private static void Core(int m, int n, int k, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate)
    {
        if (m < PackFromRows || n < 64)
        {
            Blocked(m, n, k, a, ars, acs, b, ldb, c, ldc, accumulate, packed: null);
            return;
        }
        fixed (float* packed = _panel ??= new float[KBlock * 64])
            Blocked(m, n, k, a, ars, acs, b, ldb, c, ldc, accumulate, packed);
    }

    /// <param name="packed">A KBlock × 64 buffer to copy each 64-column panel of B into, or null to read B in place.</param>
    private static void Blocked(int m, int n, int k, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool accumulate, float* packed)
    {
        for (var k0 = 0; k0 < k; k0 += KBlock)
        {
            var kc = Math.Min(KBlock, k - k0);
            var acc = accumulate || k0 > 0;
            var ak = a + (long)k0 * acs;
            var bk = b + (long)k0 * ldb;
            var j = 0;
            for (; j + 64 <= n; j += 64)
            {
                var panel = bk + j;
                var ldp = ldb;
                if (packed != null)
                {
                    for (var p = 0; p < kc; p++) Buffer.MemoryCopy(panel + (long)p * ldb, packed + p * 64, 64 * sizeof(float), 64 * sizeof(float));
                    panel = packed;
                    ldp = 64;
                }
                var i = 0;
                for (; i + 4 <= m; i += 4) Kernel4x64(kc, ak + (long)i * ars, ars, acs, panel, ldp, c + (long)i * ldc + j, ldc, acc);
                for (; i < m; i++) Kernel1x64(kc, ak + (long)i * ars, acs, panel, ldp, c + (long)i * ldc + j, acc);
            }
            for (; j + 16 <= n; j += 16)
            {
                var i = 0;
                for (; i + 4 <= m; i += 4) Kernel4x16(kc, ak + (long)i * ars, ars, acs, bk + j, ldb, c + (long)i * ldc + j, ldc, acc);
                for (; i < m; i++) Kernel1x16(kc, ak + (long)i * ars, acs, bk + j, ldb, c + (long)i * ldc + j, acc);
            }
            for (; j < n; j++)
                for (var i = 0; i < m; i++)
                {
                    var sum = 0f;
                    var ai = ak + (long)i * ars;
                    for (var p = 0; p < kc; p++) sum += ai[(long)p * acs] * bk[(long)p * ldb + j];
                    var ci = c + (long)i * ldc + j;
                    *ci = acc ? *ci + sum : sum;
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x64(int kc, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        Vector512<float> c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (acc)
        {
            c00 = Vector512.Load(c0); c01 = Vector512.Load(c0 + 16); c02 = Vector512.Load(c0 + 32); c03 = Vector512.Load(c0 + 48);
            c10 = Vector512.Load(c1); c11 = Vector512.Load(c1 + 16); c12 = Vector512.Load(c1 + 32); c13 = Vector512.Load(c1 + 48);
            c20 = Vector512.Load(c2); c21 = Vector512.Load(c2 + 16); c22 = Vector512.Load(c2 + 32); c23 = Vector512.Load(c2 + 48);
            c30 = Vector512.Load(c3); c31 = Vector512.Load(c3 + 16); c32 = Vector512.Load(c3 + 32); c33 = Vector512.Load(c3 + 48);
        }
        else
        {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16); var b2 = Vector512.Load(b + 32); var b3 = Vector512.Load(b + 48);
            var x = Vector512.Create(*a0);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01); c02 = Vector512.FusedMultiplyAdd(x, b2, c02); c03 = Vector512.FusedMultiplyAdd(x, b3, c03);
            x = Vector512.Create(*a1);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11); c12 = Vector512.FusedMultiplyAdd(x, b2, c12); c13 = Vector512.FusedMultiplyAdd(x, b3, c13);
            x = Vector512.Create(*a2);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21); c22 = Vector512.FusedMultiplyAdd(x, b2, c22); c23 = Vector512.FusedMultiplyAdd(x, b3, c23);
            x = Vector512.Create(*a3);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31); c32 = Vector512.FusedMultiplyAdd(x, b2, c32); c33 = Vector512.FusedMultiplyAdd(x, b3, c33);
            a0 += acs; a1 += acs; a2 += acs; a3 += acs;
            b += ldb;
        }
        c00.Store(c0); c01.Store(c0 + 16); c02.Store(c0 + 32); c03.Store(c0 + 48);
        c10.Store(c1); c11.Store(c1 + 16); c12.Store(c1 + 32); c13.Store(c1 + 48);
        c20.Store(c2); c21.Store(c2 + 16); c22.Store(c2 + 32); c23.Store(c2 + 48);
        c30.Store(c3); c31.Store(c3 + 16); c32.Store(c3 + 32); c33.Store(c3 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel1x64(int kc, float* a, int acs, float* b, int ldb, float* c, bool acc)
    {
        Vector512<float> c0, c1, c2, c3;
        if (acc) { c0 = Vector512.Load(c); c1 = Vector512.Load(c + 16); c2 = Vector512.Load(c + 32); c3 = Vector512.Load(c + 48); }
        else c0 = c1 = c2 = c3 = Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            var x = Vector512.Create(*a);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 16), c1);
            c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 32), c2);
            c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + 48), c3);
            a += acs;
            b += ldb;
        }
        c0.Store(c); c1.Store(c + 16); c2.Store(c + 32); c3.Store(c + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel4x16(int kc, float* a, int ars, int acs, float* b, int ldb, float* c, int ldc, bool acc)
    {
        float* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc;
        Vector512<float> r0, r1, r2, r3;
        if (acc) { r0 = Vector512.Load(c0); r1 = Vector512.Load(c1); r2 = Vector512.Load(c2); r3 = Vector512.Load(c3); }
        else r0 = r1 = r2 = r3 = Vector512<float>.Zero;
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars;
        for (var p = 0; p < kc; p++)
        {
            var bv = Vector512.Load(b);
            r0 = Vector512.FusedMultiplyAdd(Vector512.Create(*a0), bv, r0);
            r1 = Vector512.FusedMultiplyAdd(Vector512.Create(*a1), bv, r1);
            r2 = Vector512.FusedMultiplyAdd(Vector512.Create(*a2), bv, r2);
            r3 = Vector512.FusedMultiplyAdd(Vector512.Create(*a3), bv, r3);
            a0 += acs; a1 += acs; a2 += acs; a3 += acs;
            b += ldb;
        }
        r0.Store(c0); r1.Store(c1); r2.Store(c2); r3.Store(c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel1x16(int kc, float* a, int acs, float* b, int ldb, float* c, bool acc)
    {
        var r = acc ? Vector512.Load(c) : Vector512<float>.Zero;
        for (var p = 0; p < kc; p++)
        {
            r = Vector512.FusedMultiplyAdd(Vector512.Create(*a), Vector512.Load(b), r);
            a += acs;
            b += ldb;
        }
        r.Store(c);
    }
}
