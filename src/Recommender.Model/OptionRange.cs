using System.Globalization;

namespace Recommender.Model;

/// <summary>
/// The values a floating-point option may take. NaN and the infinities are never inside: a comparison with NaN is
/// always false, so a check written as "x &lt; 0 or &gt;= 1" lets NaN through, and NaN then spreads through training.
/// </summary>
internal readonly record struct OptionRange(double Min, bool MinIncluded, double Max, bool MaxIncluded)
{
    /// <summary>[0, 1): a dropout rate (1 would drop everything).</summary>
    public static readonly OptionRange Rate = new(0, true, 1, false);

    /// <summary>[0, 1]: a probability or mixing weight.</summary>
    public static readonly OptionRange Probability = new(0, true, 1, true);

    /// <summary>(0, 1]: a shrinking factor.</summary>
    public static readonly OptionRange Factor = new(0, false, 1, true);

    /// <summary>(0, 1): a fraction that must leave something on either side.</summary>
    public static readonly OptionRange OpenFraction = new(0, false, 1, false);

    /// <summary>Finite and at least 0.</summary>
    public static readonly OptionRange NonNegative = new(0, true, double.PositiveInfinity, false);

    /// <summary>Finite and above 0.</summary>
    public static readonly OptionRange Positive = new(0, false, double.PositiveInfinity, false);

    public bool Contains(double value) =>
        double.IsFinite(value) && (MinIncluded ? value >= Min : value > Min) && (MaxIncluded ? value <= Max : value < Max);

    /// <exception cref="ArgumentException">The value is outside the range, NaN or infinite; the message names the option and the value.</exception>
    public void Check(double value, string option)
    {
        if (!Contains(value)) throw new ArgumentException(Message(option, value.ToString(CultureInfo.InvariantCulture)));
    }

    /// <inheritdoc cref="Check(double, string)"/>
    public void Check(float value, string option)
    {
        // Formatted as a float so that 0.2f reads "0.2", not "0.20000000298023224".
        if (!Contains(value)) throw new ArgumentException(Message(option, value.ToString(CultureInfo.InvariantCulture)));
    }

    public override string ToString()
    {
        var min = Min.ToString(CultureInfo.InvariantCulture);
        if (double.IsPositiveInfinity(Max)) return MinIncluded ? $"a finite number of at least {min}" : $"a finite number above {min}";
        return $"in {(MinIncluded ? '[' : '(')}{min}, {Max.ToString(CultureInfo.InvariantCulture)}{(MaxIncluded ? ']' : ')')}";
    }

    private string Message(string option, string value) => $"{option} is {value}; it must be {this}.";
}
