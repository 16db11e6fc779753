namespace Recommender.Api.Validation;

/// <summary>The RFC 7807 answers of the API; every one names the offending field in "errors".</summary>
public static class Problems
{
    public static IResult Invalid(ValidationErrors errors) =>
        Results.ValidationProblem(errors.ToDictionary(), title: "The request is invalid.", statusCode: StatusCodes.Status400BadRequest);

    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.", statusCode: StatusCodes.Status400BadRequest);

    /// <summary>A 400 for an operation that takes no body but was sent one (which it would otherwise ignore); null when there is none.</summary>
    public static IResult? UnexpectedBody(HttpRequest request, string operation) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0)
            ? Invalid("body", $"{operation} takes no body; its parameters are in the path.")
            : null;

    public static IResult NotFound(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Not found.", statusCode: StatusCodes.Status404NotFound);

    public static IResult TooLarge(long limit) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body exceeds the limit of {limit} bytes."] },
            title: "The request body is too large.", statusCode: StatusCodes.Status413PayloadTooLarge);

    public static IResult UnsupportedMediaType(string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [message] },
            title: "The content type is not supported.", statusCode: StatusCodes.Status415UnsupportedMediaType);

    /// <summary>Seconds a client should wait before retrying a 503: about one membership probe period.</summary>
    public const int RetryAfterSeconds = 1;

    public static IResult Unavailable(string detail) =>
        new RetryLater(Results.Problem(detail: detail, title: "The service is not ready.", statusCode: StatusCodes.Status503ServiceUnavailable));

    /// <summary>Every 503 tells the client when to retry (RFC 9110 Retry-After).</summary>
    public static void AddRetryAfter(HttpResponse response) =>
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed class RetryLater(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            AddRetryAfter(httpContext.Response);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
