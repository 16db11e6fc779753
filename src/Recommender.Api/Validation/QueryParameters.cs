namespace Recommender.Api.Validation;

/// <summary>
/// Refuses a query parameter the endpoint does not read: a misspelt one (<c>?top=5</c>, <c>?exlude=2571</c>) would
/// otherwise be ignored and the answer would look right while not being what was asked for. The parameters an
/// endpoint reads are its handler's string parameters that are not route values; names match case-insensitively,
/// as minimal APIs bind them.
/// </summary>
public static class QueryParameters
{
    public static TBuilder RejectUnknownQueryParameters<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var route = (endpoint as RouteEndpointBuilder)?.RoutePattern;
            endpoint.FilterFactories.Add((context, next) =>
            {
                var known = context.MethodInfo.GetParameters()
                    .Where(p => p.ParameterType == typeof(string) && p.Name is not null && route?.GetParameter(p.Name) is null)
                    .Select(p => p.Name!)
                    .ToArray();
                return invocation =>
                {
                    var errors = new ValidationErrors();
                    foreach (var name in invocation.HttpContext.Request.Query.Keys)
                        if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
                            errors.Add(name, known.Length == 0
                                ? $"'{name}' is not a query parameter here; this endpoint takes none."
                                : $"'{name}' is not a query parameter here; the parameters are {string.Join(", ", known)}.");
                    return errors.Any ? ValueTask.FromResult<object?>(Problems.Invalid(errors)) : next(invocation);
                };
            });
        });
        return builder;
    }
}
