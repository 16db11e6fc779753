using Recommender.Api;

await RecommenderApi.Build(args).RunAsync();
