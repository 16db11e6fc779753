using Recommender.Grains.Users;

namespace Recommender.Cluster.Tests.Unit;

public sealed class StoredUserKeyTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("user-17", "user-17")]
    [InlineData("42", "42")]
    [InlineData("0", "0")]
    [InlineData("00ff", "FF")]
    [InlineData("abc", "ABC")]
    [InlineData("7+web", "7+web")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    [InlineData("3F2504E04F8911D39A0C0305E82C3301", "3f2504e04f8911d39a0c0305e82c3301")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301+x", "3f2504e04f8911d39a0c0305e82c3301+x")]
    public void A_stored_identity_reads_back_as_an_id_with_the_same_identity(string userId, string readBack)
    {
        var key = StoredUserKey.Of(userId);
        Assert.Equal(readBack, key.ToUserId());
        Assert.Equal(key, StoredUserKey.Of(readBack));
    }

    [Fact]
    public void Ids_of_one_number_share_an_identity_and_others_do_not()
    {
        Assert.Equal(StoredUserKey.Of("1a"), StoredUserKey.Of("1A"));
        Assert.Equal(StoredUserKey.Of("01a"), StoredUserKey.Of("1A"));
        Assert.NotEqual(StoredUserKey.Of("1a"), StoredUserKey.Of("1a+x"));
        Assert.NotEqual(StoredUserKey.Of("user"), StoredUserKey.Of("User"));
    }
}
