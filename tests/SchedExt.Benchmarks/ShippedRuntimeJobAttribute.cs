using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;

namespace SchedExt.Benchmarks;

/// <summary>
/// The job of the server benchmarks: one launch with the runtime settings the image ships with (the Dockerfile's
/// <c>ENV DOTNET_TC_CallCountingDelayMs=0</c>, also set by <c>make run</c>), so what is measured is what is deployed.
/// Without it a process that keeps both cores busy can run its hot paths unoptimised for seconds (see
/// docs/benchmarks.md, "Tiered compilation").
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ShippedRuntimeJobAttribute(int warmupCount = 3, int iterationCount = 10) : JobConfigBaseAttribute(
    Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(warmupCount)
        .WithIterationCount(iterationCount)
        .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0")))
{
}
