namespace Recommender.Api.Endpoints;

public static class BodyProblems
{
    /// <summary>The refusals every endpoint that reads a JSON body declares: a problem in it (400), too large (413), not JSON (415).</summary>
    public static RouteHandlerBuilder ProducesBodyProblems(this RouteHandlerBuilder builder) =>
        builder.ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
}
