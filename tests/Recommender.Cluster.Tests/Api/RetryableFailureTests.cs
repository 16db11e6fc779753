using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Storage;
using Recommender.Api;
using Recommender.Hosting;

namespace Recommender.Cluster.Tests.Api;

/// <summary>Failures the client can retry are answered 503 + Retry-After; calls the cluster turned away are retried first.</summary>
public sealed class RetryableFailureTests
{
    [Fact]
    public async Task A_rejected_call_is_retried_and_its_result_returned()
    {
        var attempts = 0;
        var result = await ClusterRetry.RunAsync(() =>
        {
            attempts++;
            return attempts < 3 ? throw new GatewayTooBusyException("The gateway is too busy.") : Task.FromResult(42);
        });
        Assert.Equal(42, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Retries_are_bounded_and_timeouts_are_not_retried()
    {
        var rejected = 0;
        await Assert.ThrowsAsync<SiloUnavailableException>(() => ClusterRetry.RunAsync<int>(() => { rejected++; throw new SiloUnavailableException(); }));
        Assert.Equal(3, rejected);

        var timedOut = 0;
        await Assert.ThrowsAsync<TimeoutException>(() => ClusterRetry.RunAsync<int>(() => { timedOut++; throw new TimeoutException(); }));
        Assert.Equal(1, timedOut);
    }

    [Theory]
    [InlineData("storage", "The store is unavailable.")]
    [InlineData("rejection", "The cluster is unavailable.")]
    [InlineData("timeout", "The cluster is unavailable.")]
    public async Task Unavailability_is_a_503_problem_with_retry_after(string failure, string title)
    {
        Exception exception = failure switch
        {
            "storage" => new StorageUnavailableException("Grain storage is unavailable."),
            "rejection" => new GatewayTooBusyException("The gateway is too busy."),
            _ => new TimeoutException(),
        };
        var (status, headers, body) = await HandleAsync(exception);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("1", headers.RetryAfter.ToString());
        Assert.Equal(title, body.GetProperty("title").GetString());
    }

    [Fact]
    public async Task A_store_failure_says_whether_the_write_may_have_been_stored()
    {
        var (status, headers, body) = await HandleAsync(new StorageUnavailableException("Grain storage is unavailable.", mayHaveBeenWritten: false));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        Assert.Contains("nothing was written", body.GetProperty("detail").GetString());

        (status, headers, body) = await HandleAsync(new StorageUnavailableException("Grain storage is unavailable.", mayHaveBeenWritten: true));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("1", headers.RetryAfter.ToString());
        Assert.True(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        Assert.Contains("may have been written", body.GetProperty("detail").GetString());
        Assert.DoesNotContain("nothing was written", body.GetProperty("detail").GetString());

        // The detail names what failed.
        (_, _, body) = await HandleAsync(new StorageUnavailableException("Grain storage is unavailable.", mayHaveBeenWritten: false) { Reason = "The disk that holds the database file is full" });
        Assert.Equal("The disk that holds the database file is full; nothing was written. Retry shortly.", body.GetProperty("detail").GetString());

        // A read writes nothing, whatever broke.
        (_, _, body) = await HandleAsync(new StorageUnavailableException("Grain storage is unavailable.", mayHaveBeenWritten: true), "GET");
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());

        // A write the cluster did not answer in time may have been carried out; one it rejected was not.
        (_, _, body) = await HandleAsync(new TimeoutException());
        Assert.True(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        Assert.Contains("may have been carried out", body.GetProperty("detail").GetString());
        (_, _, body) = await HandleAsync(new TimeoutException(), "GET");
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        // Nor does a POST that only reads (a session's recommendations).
        (_, _, body) = await HandleAsync(new TimeoutException(), writesNothing: true);
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        (_, _, body) = await HandleAsync(new StorageUnavailableException("Grain storage is unavailable.", mayHaveBeenWritten: true), writesNothing: true);
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        // A write whose silo was lost while it was pending may have run; a rejected one did not.
        (_, _, body) = await HandleAsync(new SiloUnavailableException());
        Assert.True(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        (_, _, body) = await HandleAsync(new GatewayTooBusyException("The gateway is too busy."));
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        Assert.Contains("retry shortly", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_write_refused_for_a_stale_version_is_retryable_and_wrote_nothing()
    {
        var (status, headers, body) = await HandleAsync(new InconsistentStateException("Version conflict (WriteState): ServiceId=recommender", "7", "6"));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        Assert.Equal("1", headers.RetryAfter.ToString());
        Assert.False(body.GetProperty("mayHaveBeenWritten").GetBoolean());
        Assert.Contains("nothing was written", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_event_write_not_answered_in_time_is_withdrawn_and_sent_again()
    {
        var attempts = 0;
        var withdrawn = false;
        var result = await ClusterRetry.RepeatAsync(async attempt =>
        {
            if (++attempts == 1)
            {
                // Never answered (a request lost in the cluster), until the attempt is withdrawn.
                try { await Task.Delay(Timeout.Infinite, attempt); }
                catch (OperationCanceledException) { withdrawn = true; throw; }
            }
            return 42;
        }, TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.Equal(42, result);
        Assert.Equal(2, attempts);
        Assert.True(withdrawn);

        // The cluster's own timeout and its rejections are repeated too.
        attempts = 0;
        result = await ClusterRetry.RepeatAsync(_ => ++attempts switch
        {
            1 => throw new TimeoutException(),
            2 => throw new SiloUnavailableException(),
            _ => Task.FromResult(7),
        }, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(7, result);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task Attempts_that_were_all_rejected_end_in_the_rejection_and_one_that_may_have_run_in_a_timeout()
    {
        var attempts = 0;
        await Assert.ThrowsAsync<GatewayTooBusyException>(() => ClusterRetry.RepeatAsync<int>(_ => { attempts++; throw new GatewayTooBusyException("busy"); },
            TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(3, attempts);

        // The first attempt was not answered in time (it may have run), the others were rejected: the answer must not
        // say that nothing ran.
        attempts = 0;
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => ClusterRetry.RepeatAsync<int>(async attempt =>
        {
            if (++attempts == 1) await Task.Delay(Timeout.Infinite, attempt);
            throw new GatewayTooBusyException("busy");
        }, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(3, attempts);
        Assert.IsType<GatewayTooBusyException>(timeout.InnerException);
    }

    [Fact]
    public async Task Event_write_attempts_are_bounded_and_an_aborted_request_is_not_repeated()
    {
        var attempts = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => ClusterRetry.RepeatAsync<int>(async attempt =>
        {
            attempts++;
            await Task.Delay(Timeout.Infinite, attempt);
            return 0;
        }, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(3, attempts);
        Assert.Contains("3 attempts", timeout.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"gave up after {clock.Elapsed}");

        // A failure that is not about the cluster's availability is the caller's answer at once.
        attempts = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => ClusterRetry.RepeatAsync<int>(_ => { attempts++; throw new InvalidOperationException(); },
            TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(1, attempts);

        // The client went away: nothing is sent again for it.
        using var aborted = new CancellationTokenSource();
        attempts = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ClusterRetry.RepeatAsync<int>(async attempt =>
        {
            attempts++;
            aborted.Cancel();
            await Task.Delay(Timeout.Infinite, attempt);
            return 0;
        }, TimeSpan.FromSeconds(10), aborted.Token));
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task An_unexpected_failure_is_a_500_without_retry_after()
    {
        var (status, headers, _) = await HandleAsync(new InvalidOperationException("bug"));
        Assert.Equal(StatusCodes.Status500InternalServerError, status);
        Assert.Equal(0, headers.RetryAfter.Count);
    }

    private static async Task<(int Status, IHeaderDictionary Headers, JsonElement Body)> HandleAsync(Exception exception, string method = "POST", bool writesNothing = false)
    {
        await using var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = method;
        if (writesNothing) context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new Recommender.Api.Endpoints.WritesNothing()), "reads only"));
        context.Response.Body = new MemoryStream();
        var handler = new ProblemExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), NullLogger<ProblemExceptionHandler>.Instance);
        Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));
        context.Response.Body.Position = 0;
        using var document = await JsonDocument.ParseAsync(context.Response.Body);
        return (context.Response.StatusCode, context.Response.Headers, document.RootElement.Clone());
    }
}
