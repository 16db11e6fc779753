using Microsoft.Extensions.Primitives;
using Recommender.Abstractions;
using Recommender.Api.Validation;

namespace Recommender.Cluster.Tests.Unit;

public sealed class IdempotencyKeyTests
{
    private static (string? Key, string[] Errors) Parse(StringValues values)
    {
        var errors = new ValidationErrors();
        var key = IdempotencyKey.Parse(values, errors);
        var messages = errors.ToDictionary().TryGetValue(IdempotencyKey.HeaderName, out var m) ? m : [];
        Assert.Equal(errors.Any, messages.Length > 0);
        return (key, messages);
    }

    [Fact]
    public void A_key_is_taken_bare_or_from_quotes_and_no_header_is_no_key()
    {
        Assert.Equal((null, []), Parse(StringValues.Empty));
        Assert.Equal("8e03978e-40d5-43e8-bc93-6894a57f9324", Parse("8e03978e-40d5-43e8-bc93-6894a57f9324").Key);
        Assert.Equal("order 42", Parse("\"order 42\"").Key);
        Assert.Equal(new string('k', IdempotencyKey.MaxLength), Parse(new string('k', IdempotencyKey.MaxLength)).Key);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("\"\"", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("a\tb", "printable ASCII")]
    [InlineData("\"a\"b\"", "printable ASCII")]
    [InlineData("a\\b", "printable ASCII")]
    [InlineData("caf\u00e9", "printable ASCII")]
    public void A_bad_key_is_an_error_naming_the_header(string value, string says)
    {
        var (key, errors) = Parse(value);
        Assert.Null(key);
        Assert.Contains(says, Assert.Single(errors));
    }

    [Fact]
    public void A_key_over_the_limit_or_sent_twice_is_an_error()
    {
        Assert.Contains("256 characters", Assert.Single(Parse(new string('k', IdempotencyKey.MaxLength + 1)).Errors));
        Assert.Contains("2 times", Assert.Single(Parse(new StringValues(["a", "a"])).Errors));
    }

    [Fact]
    public void Ids_from_a_key_depend_on_the_key_the_position_and_the_content_but_not_on_the_server_time()
    {
        var t = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var id = EventIds.FromRequestKey("k", 0, "u", "i", EventType.View, null, null);
        Assert.Equal(id, EventIds.FromRequestKey("k", 0, "u", "i", EventType.View, null, null));
        Assert.StartsWith("auto-", id);
        string[] others =
        [
            EventIds.FromRequestKey("k2", 0, "u", "i", EventType.View, null, null),
            EventIds.FromRequestKey("k", 1, "u", "i", EventType.View, null, null),
            EventIds.FromRequestKey("k", 0, "u2", "i", EventType.View, null, null),
            EventIds.FromRequestKey("k", 0, "u", "i2", EventType.View, null, null),
            EventIds.FromRequestKey("k", 0, "u", "i", EventType.Click, null, null),
            EventIds.FromRequestKey("k", 0, "u", "i", EventType.View, t, null),
            EventIds.FromRequestKey("k", 0, "u", "i", EventType.Rating, null, 4),
            EventIds.FromRequestKey("k", 0, "u", "i", EventType.Rating, null, 4.5),
            EventIds.Derive("u", "i", EventType.View, t),
        ];
        Assert.Equal(others.Length + 1, others.Append(id).Distinct().Count());
    }

    [Fact]
    public void Ids_derived_without_a_key_are_those_stored_by_earlier_releases()
    {
        // The first 16 bytes of SHA-256("u␟i␟view␟638448804000000000"): histories already stored hold ids derived this
        // way, so a resend of one of their events must derive the same id.
        Assert.Equal("auto-efde474542bc89b359913aa335f06dd6", EventIds.Derive("u", "i", EventType.View, new DateTimeOffset(2024, 3, 1, 9, 0, 0, TimeSpan.Zero)));
    }
}
