using Recommender.Api;
using Recommender.Hosting;

return await HostRunner.RunAsync(() => RecommenderApi.Build(args));
