using System.Net;
using System.Net.Http.Json;
using System.Text;
using Recommender.Cluster.Tests.Api;

namespace Recommender.Cluster.Tests.Serving;

/// <summary>POST /users/recommendations answers, for each user given, what that user's own read answers.</summary>
[Collection(ServingCollection.Name)]
public sealed class ManyUsersTests(ServingCluster cluster)
{
    private sealed record UsersReply(List<RecommendationsReply> Users);

    [Theory]
    [InlineData("k=5")]
    [InlineData("k=3&offset=2&excludeTag=Drama")]
    [InlineData("k=4&includeSeen=true&exclude=1,2")]
    [InlineData("k=6&boost=Thriller:4&boost=romance:0.5")]
    [InlineData("k=6&boost=Thriller:4&cap=thriller:2")]
    public async Task Each_user_gets_the_list_its_own_read_gives_in_the_order_given(string query)
    {
        // Every silo serves the active version (a test before may have just activated it), so that the reads compared agree on it.
        await ServingChecks.WaitForVersion(cluster, "3", (await cluster.GetJsonAsync<ModelsReply>("/models")).Active!);
        var cold = $"cold-{Guid.NewGuid():N}";
        string[] users = ["3", "1", cold, "5", "2"];
        using var response = await cluster.Http.PostAsJsonAsync($"/users/recommendations?{query}", new { users });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var reply = (await response.Content.ReadFromJsonAsync<UsersReply>())!;

        Assert.Equal(users, reply.Users.Select(u => u.UserId));
        foreach (var list in reply.Users.Where(u => u.UserId != cold))
        {
            var own = await cluster.GetJsonAsync<RecommendationsReply>($"/users/{list.UserId}/recommendations?{query}");
            Assert.Equal("model", list.Source);
            Assert.Equal(own.ModelVersion, list.ModelVersion);
            Assert.Equal(own.Items.Select(i => (i.Id, i.Title)), list.Items.Select(i => (i.Id, i.Title)));
            Assert.Equal(own.Items.Select(i => i.Score), list.Items.Select(i => i.Score), (a, b) => Math.Abs(a - b) < 1e-9);
            Assert.NotEmpty(list.Items);
        }
        // A user without history gets the popular list, as a read of its own would.
        var coldList = reply.Users.Single(u => u.UserId == cold);
        Assert.Equal("popularity", coldList.Source);
        Assert.NotEmpty(coldList.Items);
        // Nothing is stored for the users read.
        Assert.Equal(0, (await cluster.GetJsonAsync<HistoryReply>($"/users/{cold}/history")).TotalCount);
    }

    public static TheoryData<string, string, string> BadRequests()
    {
        var thousandAndOne = "[" + string.Join(",", Enumerable.Range(1, 1001).Select(i => $"\"u{i}\"")) + "]";
        var twoHundred = "[" + string.Join(",", Enumerable.Range(1, 200).Select(i => $"\"u{i}\"")) + "]";
        return new()
        {
            { "", """{}""", "users" },
            { "", """{"users": null}""", "users" },
            { "", """{"users": []}""", "users" },
            { "", """{"users": "1"}""", "users" },
            { "", """{"users": ["1", "1"]}""", "users[1]" },
            { "", """{"users": ["1", " "]}""", "users[1]" },
            { "", """{"users": ["1", {"id": "2"}]}""", "users[1]" },
            { "", $$"""{"users": {{thousandAndOne}}}""", "users" },
            { "", """{"users": ["1"], "user": "2"}""", "user" },
            { "", """["1", "2"]""", "body" },
            { "?k=1000", $$"""{"users": {{twoHundred}}}""", "k" },
            { "?k=0", """{"users": ["1"]}""", "k" },
            { "?k=5&offset=1000", """{"users": ["1"]}""", "offset" },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_request_is_refused_naming_what_is_wrong(string query, string body, string field)
    {
        using var response = await cluster.Http.PostAsync($"/users/recommendations{query}", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemReply>())!;
        Assert.True(problem.Errors?.ContainsKey(field) == true, await response.Content.ReadAsStringAsync());
    }
}
