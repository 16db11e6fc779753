using Recommender.Abstractions;
using Recommender.Grains;

namespace Recommender.Cluster.Tests.Unit;

public sealed class StoredGrainKeyTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("user-17")]
    [InlineData("42")]
    [InlineData("0")]
    [InlineData("00ff")]
    [InlineData("FF")]
    [InlineData("abc")]
    [InlineData("ABC")]
    [InlineData("7+web")]
    [InlineData("0+web")]
    [InlineData("7+")]
    [InlineData("~7")]
    [InlineData("~")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    [InlineData("3F2504E04F8911D39A0C0305E82C3301")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301+x")]
    [InlineData("00000000000000000000000000000001")]
    [InlineData("{cust-7}")]
    [InlineData("{3F2504E0-4F89-11D3-9A0C-0305E82C3301}")]
    [InlineData("}")]
    [InlineData("a%7Bb{%25}")]
    [InlineData("~%7Bx%7D")]
    [InlineData("%")]
    public void A_stored_identity_reads_back_as_its_own_id(string userId) =>
        Assert.Equal(userId, StoredGrainKey.Of(userId).ToId());

    /// <summary>Ids the storage columns alone would confuse (one number spelt two ways, a string and "0+string", ...).</summary>
    [Theory]
    [InlineData("1a", "1A")]
    [InlineData("01a", "1A")]
    [InlineData("7", "007")]
    [InlineData("beef", "BEEF")]
    [InlineData("0ab", "AB")]
    [InlineData("x", "0+x")]
    [InlineData("5", "5+")]
    [InlineData("7", "~7")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301", "3F2504E04F8911D39A0C0305E82C3301")]
    [InlineData("1", "00000000000000000100000000000000")]
    [InlineData("user", "User")]
    [InlineData("1a", "1a+x")]
    [InlineData("{x}", "~%7Bx%7D")]
    [InlineData("{", "%7B")]
    [InlineData("a{", "a%7B")]
    public void Distinct_ids_have_distinct_stored_identities(string a, string b) =>
        Assert.NotEqual(StoredGrainKey.Of(a), StoredGrainKey.Of(b));

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("42", "42")]
    [InlineData("1A", "1A")]
    [InlineData("7+web", "7+web")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301", "3f2504e04f8911d39a0c0305e82c3301")]
    [InlineData("1a", "~1a")]
    [InlineData("007", "~007")]
    [InlineData("~x", "~~x")]
    [InlineData("0+x", "~0+x")]
    [InlineData("{x}", "~%7Bx%7D")]
    [InlineData("a%b", "a%b")]
    [InlineData("~%{", "~~%25%7B")]
    public void Plain_names_and_canonical_numbers_keep_their_key_and_others_are_escaped(string id, string key)
    {
        Assert.Equal(key, GrainKeys.Encode(id));
        Assert.Equal(id, GrainKeys.Decode(key));
    }
}
