using Recommender.Hosting;

// A headless silo for cluster deployments: the same configuration as the embedded node (see CONFIGURATION.md),
// usually with Recommender:Clustering:Mode = AdoNet and a shared database; front ends join with Recommender:Mode = Cluster.
var builder = Host.CreateApplicationBuilder(args);
builder.AddRecommenderSilo();
await builder.Build().RunAsync();
