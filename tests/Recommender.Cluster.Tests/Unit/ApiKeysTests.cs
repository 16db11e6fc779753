using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Recommender.Api.Security;

namespace Recommender.Cluster.Tests.Unit;

public sealed class ApiKeysTests
{
    private const string A = "admin-key-0123456789";
    private const string B = "admin-key-abcdefghij";
    private const string C = "client-key-0123456789";

    private static ApiKeys Read(Dictionary<string, string?> settings) =>
        ApiKeys.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());

    [Fact]
    public void Keys_come_as_a_list_or_one_comma_separated_value_and_each_has_its_role()
    {
        var keys = Read(new() { ["Recommender:ApiKeys:Admin"] = $"{A}, {B}", ["Recommender:ApiKeys:Client:0"] = C });
        Assert.True(keys.Enabled);
        Assert.Equal((2, 1), (keys.AdminCount, keys.ClientCount));
        Assert.Equal(ApiRole.Admin, keys.Find(A)?.Role);
        Assert.Equal(ApiRole.Admin, keys.Find(B)?.Role);
        Assert.Equal(ApiRole.Client, keys.Find(C)?.Role);
        // Named by role and place, never by the key itself: the name goes into answers and logs.
        Assert.Equal(["admin key 1", "admin key 2", "client key 1"], new[] { A, B, C }.Select(k => keys.Find(k)?.ToString()));
        Assert.Null(keys.Find(C + "x"));
        Assert.Null(keys.Find(C.ToUpperInvariant()));
        Assert.Null(keys.Find(""));

        var adminOnly = Read(new() { ["Recommender:ApiKeys:Admin:0"] = A, ["Recommender:ApiKeys:Admin:1"] = B });
        Assert.Equal((2, 0), (adminOnly.AdminCount, adminOnly.ClientCount));
        Assert.False(Read([]).Enabled);
        // Setting names match regardless of case, as every other .NET configuration key does.
        Assert.Equal(ApiRole.Admin, Read(new() { ["RECOMMENDER:APIKEYS:admin"] = A }).Find(A)?.Role);
    }

    [Theory]
    [InlineData("Recommender:ApiKeys:Admin", "short", "The key in Recommender:ApiKeys:Admin has 5 characters; a key has 16 to 256")]
    [InlineData("Recommender:ApiKeys:Admin", A + ",", "Key 2 of Recommender:ApiKeys:Admin is empty")]
    [InlineData("Recommender:ApiKeys:Admin", "", "The key in Recommender:ApiKeys:Admin is empty: give a key of 16 to 256 characters, or remove the setting to run without keys.")]
    [InlineData("Recommender:ApiKeys:Admin:0", "", "The key in Recommender:ApiKeys:Admin is empty")]
    [InlineData("Recommender:ApiKeys:Admin", A + "," + A, "Key 2 of Recommender:ApiKeys:Admin is given twice.")]
    [InlineData("Recommender:ApiKeys:Admin", "key with spaces inside it", "holds a character other than printable ASCII")]
    [InlineData("Recommender:ApiKeys:Admin", "schlüssel-0123456789", "holds a character other than printable ASCII")]
    [InlineData("Recommender:ApiKeys:Client", C, "Recommender:ApiKeys:Client is set but Recommender:ApiKeys:Admin is empty")]
    [InlineData("Recommender:ApiKeys:Admins", A, "Recommender:ApiKeys:Admins is not a setting; the settings are Recommender:ApiKeys:Admin and Recommender:ApiKeys:Client.")]
    [InlineData("Recommender:ApiKeys", A, "Recommender:ApiKeys takes its keys under Recommender:ApiKeys:Admin")]
    public void A_bad_key_setting_is_refused_with_its_name(string key, string value, string message)
    {
        var refused = Assert.Throws<OptionsValidationException>(() => Read(new() { [key] = value }));
        Assert.Contains(message, refused.Message);
        // The message never repeats a key.
        Assert.DoesNotContain(A, refused.Message);
        Assert.DoesNotContain(C, refused.Message);
    }

    [Fact]
    public void A_role_given_both_as_one_value_and_as_a_list_is_refused() =>
        Assert.Contains("Recommender:ApiKeys:Admin is given both as one value and as a list",
            Assert.Throws<OptionsValidationException>(() => Read(new() { ["Recommender:ApiKeys:Admin"] = A, ["Recommender:ApiKeys:Admin:0"] = B })).Message);

    [Fact]
    public void A_key_in_both_roles_is_refused() =>
        Assert.Contains("Key 1 of Recommender:ApiKeys:Client is in Recommender:ApiKeys:Admin too",
            Assert.Throws<OptionsValidationException>(() => Read(new() { ["Recommender:ApiKeys:Admin"] = A, ["Recommender:ApiKeys:Client"] = A })).Message);
}
