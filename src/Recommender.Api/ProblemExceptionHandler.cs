using Microsoft.AspNetCore.Diagnostics;
using Orleans.Storage;
using Recommender.Abstractions;
using Recommender.Api.Validation;
using Recommender.Hosting;

namespace Recommender.Api;

/// <summary>
/// Turns exceptions that escape an endpoint into problem details: a bad request body keeps its 400/413, an
/// unavailable cluster is a 503; anything else is logged and answered as a 500 problem.
/// </summary>
public sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception thrown, CancellationToken cancellationToken)
    {
        // A read cannot have written anything, however its connection broke, nor can a write that failed in a check
        // before it wrote. A write the cluster did not answer in time, or whose silo was lost meanwhile, may have been
        // carried out; one it rejected (before any grain ran it) was not.
        var beforeWriting = thrown is FailedBeforeWritingException;
        var exception = beforeWriting ? thrown.InnerException! : thrown;
        var mayHaveBeenWritten = (exception is StorageUnavailableException { MayHaveBeenWritten: true } || ClusterRetry.MayHaveRun(exception))
            && !beforeWriting && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
            && context.GetEndpoint()?.Metadata.GetMetadata<Endpoints.WritesNothing>() is null;
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                (StatusCodes.Status413PayloadTooLarge, "The request body is too large.", $"The body exceeds the limit of {Limits.MaxBodyBytes} bytes."),
            BadHttpRequestException bad => (bad.StatusCode, "The request is invalid.", bad.Message),
            StorageUnavailableException unavailable when mayHaveBeenWritten =>
                (StatusCodes.Status503ServiceUnavailable, "The store is unavailable.",
                    $"{unavailable.Reason} while the request was being stored, so it may have been written. " +
                    "Send it again with the same event ids or Idempotency-Key: what was stored then counts as a repeat, not twice."),
            StorageUnavailableException unavailable =>
                (StatusCodes.Status503ServiceUnavailable, "The store is unavailable.", $"{unavailable.Reason}; nothing was written. Retry shortly."),
            TimeoutException or SiloUnavailableException when mayHaveBeenWritten =>
                (StatusCodes.Status503ServiceUnavailable, "The cluster is unavailable.",
                    "The cluster did not answer in time, or lost the node serving it, so the request may have been carried out. Events sent again with the same " +
                    "event ids or Idempotency-Key count as repeats, not twice; check anything else before repeating it."),
            _ when exception is TimeoutException || ClusterRetry.IsRejection(exception) =>
                (StatusCodes.Status503ServiceUnavailable, "The cluster is unavailable.", "The request could not be served by the cluster; retry shortly."),
            // The stored version moved on since the grain read it (a write whose acknowledgement was lost, then another):
            // storage refused this write, and the grain is deactivated so that the next call reads what is stored.
            InconsistentStateException =>
                (StatusCodes.Status503ServiceUnavailable, "The store is unavailable.", "The stored state changed since it was read; nothing was written. Retry shortly."),
            _ => (StatusCodes.Status500InternalServerError, "An unexpected error occurred.", null),
        };
        if (status == StatusCodes.Status500InternalServerError)
            logger.LogError(exception, "Request {Method} {Path} failed with an unexpected error", context.Request.Method, context.Request.Path);
        else if (status >= 500)
            logger.LogWarning(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) Problems.AddRetryAfter(context.Response);
        var problem = new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        };
        // Machine-readable for clients deciding between a plain retry and a resend under the same ids.
        if (status == StatusCodes.Status503ServiceUnavailable)
            problem.ProblemDetails.Extensions["mayHaveBeenWritten"] = mayHaveBeenWritten;
        return await problems.TryWriteAsync(problem);
    }
}
