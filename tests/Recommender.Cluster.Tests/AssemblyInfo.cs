// Test clusters, Kestrel and the seed loads share two cores: running the classes one at a time keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
