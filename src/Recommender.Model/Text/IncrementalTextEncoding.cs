using Recommender.Model.Data;

namespace Recommender.Model.Text;

/// <summary>
/// Encodes item texts, taking the vector of every text an earlier encoding holds (matched by the text's digest, whichever
/// item it belonged to) instead of encoding it again: a catalogue that changed a little is encoded in the time its new
/// and changed texts take. The encoder is deterministic, so a reused vector is the one the text would get again.
/// </summary>
public static class IncrementalTextEncoding
{
    /// <param name="texts">Item id → composed text.</param>
    /// <param name="previous">An earlier encoding with its text digests, or null to encode every text.</param>
    /// <param name="source">Names <paramref name="previous"/> in messages.</param>
    /// <param name="encoder">Made only when a text is left to encode.</param>
    /// <exception cref="FormatException">The earlier encoding has no digests, or another encoder, dimension or template.</exception>
    public static (TextVectors Vectors, int Encoded, int Reused) Encode(IReadOnlyDictionary<string, string> texts, TextVectors? previous, string source,
        Func<SentenceTextEncoder> encoder, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var known = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (previous is not null)
        {
            if (previous.TextDigests is null)
                throw new FormatException($"{source} holds no text digests (split re-keys a file without them), so it cannot tell which texts changed: give a file encode-text wrote.");
            if (previous.Encoder != SentenceTextEncoder.ModelName || previous.Dimension != SentenceTextEncoder.Dimension || previous.Template != ItemText.Template)
                throw new FormatException($"{source} was encoded by {previous.Encoder} ({previous.Dimension} dimensions, template '{previous.Template}'), " +
                    $"not by {SentenceTextEncoder.ModelName} ({SentenceTextEncoder.Dimension} dimensions, template '{ItemText.Template}') as now: encode without it.");
            foreach (var (id, digest) in previous.TextDigests) known.TryAdd(digest, previous.Vectors[id]);
        }

        var digests = texts.ToDictionary(p => p.Key, p => TextVectors.TextDigest(p.Value), StringComparer.Ordinal);
        // Each new text once, however many items share it.
        var missing = texts.Where(p => !known.ContainsKey(digests[p.Key])).DistinctBy(p => digests[p.Key]).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (missing.Count > 0)
        {
            using var sentences = encoder();
            foreach (var (id, vector) in MovieLensText.Encode(missing, sentences, ct).Vectors) known[digests[id]] = vector;
        }
        var vectors = new Dictionary<string, float[]>(texts.Count, StringComparer.Ordinal);
        foreach (var id in texts.Keys.Order(ExternalIdComparer.Instance)) vectors[id] = known[digests[id]];
        return (new TextVectors(SentenceTextEncoder.ModelName, SentenceTextEncoder.Dimension, ItemText.Template, vectors, digests), missing.Count, texts.Count - missing.Count);
    }
}
