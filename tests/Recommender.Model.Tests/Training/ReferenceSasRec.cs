using Recommender.Model.Sasrec;

namespace Recommender.Model.Tests.Training;

/// <summary>
/// The shared SASRec forward contract written out literally, in double precision, over the full left-padded
/// window with the −1e9 padding mask: the yardstick for the trainer's optimised forward.
/// </summary>
internal static class ReferenceSasRec
{
    public static double[] Encode(SasRecModel model, int[] history)
    {
        var c = model.Config;
        int l = c.MaxLength, d = c.Dimension, f = c.FeedForwardDimension, heads = c.Heads, dh = d / heads;
        if (history.Length == 0) return new double[d];
        var ids = new int[l];
        var recent = history.Skip(Math.Max(0, history.Length - l)).ToArray();
        recent.CopyTo(ids, l - recent.Length);
        double[] P(string name) => model.Get(name).Data.Select(v => (double)v).ToArray();
        var itemEmb = P("item_emb");
        var posEmb = P("pos_emb");
        var x = new double[l, d];
        for (var t = 0; t < l; t++)
            for (var j = 0; j < d; j++)
                x[t, j] = ids[t] > 0 ? itemEmb[ids[t] * d + j] * Math.Sqrt(d) + posEmb[Position(t) * d + j] : 0;
        for (var b = 0; b < c.Blocks; b++)
        {
            var p = $"blocks.{b}.";
            if (c.NormalisedResidual)
            {
                var h = Norm(x, P(p + "ln1.weight"), P(p + "ln1.bias"));
                var g = Norm(Add(h, Attention(h, p, keysFrom: x)), P(p + "ln2.weight"), P(p + "ln2.bias"));
                x = Add(g, FeedForward(g, p));
            }
            else if (c.PreNorm)
            {
                x = Add(x, Attention(Norm(x, P(p + "ln1.weight"), P(p + "ln1.bias")), p));
                x = Add(x, FeedForward(Norm(x, P(p + "ln2.weight"), P(p + "ln2.bias")), p));
            }
            else
            {
                x = Norm(Add(x, Attention(x, p)), P(p + "ln1.weight"), P(p + "ln1.bias"));
                x = Norm(Add(x, FeedForward(x, p)), P(p + "ln2.weight"), P(p + "ln2.bias"));
            }
            for (var t = 0; t < l; t++)
                if (ids[t] == 0)
                    for (var j = 0; j < d; j++) x[t, j] = 0;
        }
        var y = Norm(x, P("final_ln.weight"), P("final_ln.bias"));
        return Enumerable.Range(0, d).Select(j => y[l - 1, j]).ToArray();

        // Window column t holds the item at position t (counted back from the end) or t − pads (counted from the oldest item).
        int Position(int t) => c.PositionsFromStart ? t - (l - recent.Length) : t;

        double[,] Attention(double[,] h, string p, double[,]? keysFrom = null)
        {
            keysFrom ??= h;
            var q = Linear(h, P(p + "attn.q.weight"), P(p + "attn.q.bias"), d, d);
            var k = Linear(keysFrom, P(p + "attn.k.weight"), P(p + "attn.k.bias"), d, d);
            var v = Linear(keysFrom, P(p + "attn.v.weight"), P(p + "attn.v.bias"), d, d);
            var context = new double[l, d];
            for (var head = 0; head < heads; head++)
                for (var i = 0; i < l; i++)
                {
                    var scores = new double[l];
                    for (var j = 0; j < l; j++)
                    {
                        var dot = 0.0;
                        for (var e = 0; e < dh; e++) dot += q[i, head * dh + e] * k[j, head * dh + e];
                        scores[j] = dot / Math.Sqrt(dh) + (j <= i && ids[j] > 0 ? 0 : -1e9);
                    }
                    var max = scores.Max();
                    var w = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var sum = w.Sum();
                    for (var e = 0; e < dh; e++)
                    {
                        var acc = 0.0;
                        for (var j = 0; j < l; j++) acc += w[j] / sum * v[j, head * dh + e];
                        context[i, head * dh + e] = acc;
                    }
                }
            return Linear(context, P(p + "attn.out.weight"), P(p + "attn.out.bias"), d, d);
        }

        double[,] FeedForward(double[,] h, string p)
        {
            if (c.Activation == "swiglu")
            {
                // [a | b] → a · b · σ(b)
                var halves = Linear(h, P(p + "ffn.fc1.weight"), P(p + "ffn.fc1.bias"), d, 2 * f);
                var gated = new double[l, f];
                for (var t = 0; t < l; t++)
                    for (var j = 0; j < f; j++)
                    {
                        var gate = halves[t, f + j];
                        gated[t, j] = halves[t, j] * gate / (1 + Math.Exp(-gate));
                    }
                return Linear(gated, P(p + "ffn.fc2.weight"), P(p + "ffn.fc2.bias"), f, d);
            }
            var hidden = Linear(h, P(p + "ffn.fc1.weight"), P(p + "ffn.fc1.bias"), d, f);
            for (var t = 0; t < l; t++)
                for (var j = 0; j < f; j++)
                {
                    var u = hidden[t, j];
                    hidden[t, j] = c.Activation == "gelu"
                        ? 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)))
                        : Math.Max(0, u);
                }
            return Linear(hidden, P(p + "ffn.fc2.weight"), P(p + "ffn.fc2.bias"), f, d);
        }
    }

    private static double[,] Linear(double[,] x, double[] w, double[] b, int inputs, int outputs)
    {
        var rows = x.GetLength(0);
        var y = new double[rows, outputs];
        for (var t = 0; t < rows; t++)
            for (var o = 0; o < outputs; o++)
            {
                var acc = b[o];
                for (var i = 0; i < inputs; i++) acc += x[t, i] * w[i * outputs + o];
                y[t, o] = acc;
            }
        return y;
    }

    private static double[,] Norm(double[,] x, double[] w, double[] b)
    {
        int rows = x.GetLength(0), d = x.GetLength(1);
        var y = new double[rows, d];
        for (var t = 0; t < rows; t++)
        {
            var mean = 0.0;
            for (var j = 0; j < d; j++) mean += x[t, j];
            mean /= d;
            var variance = 0.0;
            for (var j = 0; j < d; j++) variance += (x[t, j] - mean) * (x[t, j] - mean);
            variance /= d;
            for (var j = 0; j < d; j++) y[t, j] = (x[t, j] - mean) / Math.Sqrt(variance + 1e-5) * w[j] + b[j];
        }
        return y;
    }

    private static double[,] Add(double[,] a, double[,] b)
    {
        var y = (double[,])a.Clone();
        for (var t = 0; t < a.GetLength(0); t++)
            for (var j = 0; j < a.GetLength(1); j++) y[t, j] += b[t, j];
        return y;
    }
}
