using System.Collections;
using System.Globalization;

namespace Recommender.Model.Data;

/// <summary>
/// The identity vocabulary "1".."Count": the external id of dense item i + 1 is its own number. The strings are
/// formatted on access instead of stored, so the vocabulary of a large catalogue takes no memory.
/// </summary>
internal sealed class DenseIdVocabulary : IReadOnlyList<string>
{
    public DenseIdVocabulary(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
    }

    public int Count { get; }

    public string this[int index] =>
        (uint)index < (uint)Count ? (index + 1).ToString(CultureInfo.InvariantCulture) : throw new ArgumentOutOfRangeException(nameof(index), index, $"The vocabulary holds {Count} ids.");

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return (i + 1).ToString(CultureInfo.InvariantCulture);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
