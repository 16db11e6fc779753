namespace Recommender.Api.Validation;

/// <summary>Field-level errors, keyed the way RFC 7807 "errors" name them: "userId", "[3].type", "embedding".</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    /// <summary>How many messages there are, so that a parser can tell whether one element of a batch added any.</summary>
    public int Count => _errors.Values.Sum(list => list.Count);

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
    }

    public IDictionary<string, string[]> ToDictionary() => _errors.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>The key of a field of element <paramref name="index"/> of a batch, or of the single object when <paramref name="index"/> is null.</summary>
    public static string Field(int? index, string name) => index is { } i ? $"[{i}].{name}" : name;
}
