namespace Recommender.Api.Validation;

/// <summary>The RFC 7807 answers of the API; every one names the offending field in "errors".</summary>
public static class Problems
{
    public static IResult Invalid(ValidationErrors errors) =>
        Results.ValidationProblem(errors.ToDictionary(), title: "The request is invalid.", statusCode: StatusCodes.Status400BadRequest);

    public static IResult Invalid(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is invalid.", statusCode: StatusCodes.Status400BadRequest);

    public static IResult NotFound(string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Not found.", statusCode: StatusCodes.Status404NotFound);

    public static IResult TooLarge(long limit) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [$"The body exceeds the limit of {limit} bytes."] },
            title: "The request body is too large.", statusCode: StatusCodes.Status413PayloadTooLarge);

    public static IResult Unavailable(string detail) =>
        Results.Problem(detail: detail, title: "The service is not ready.", statusCode: StatusCodes.Status503ServiceUnavailable);
}
