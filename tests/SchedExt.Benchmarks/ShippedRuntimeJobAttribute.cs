using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;

namespace SchedExt.Benchmarks;

/// <summary>
/// The job of the server benchmarks: the runtime settings the image ships with (the Dockerfile's
/// <c>ENV DOTNET_TC_CallCountingDelayMs=0</c>, also set by <c>make run</c>), so what is measured is what is deployed.
/// Without it a process that keeps both cores busy can run its hot paths unoptimised for seconds (see
/// docs/benchmarks.md, "Tiered compilation"). One launch unless asked for more: each launch is a new process, measured
/// at a different moment, so several launches average the machine's drift instead of giving one moment's reading.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ShippedRuntimeJobAttribute(int warmupCount = 3, int iterationCount = 10, int launchCount = 1) : JobConfigBaseAttribute(
    Job.Default
        .WithLaunchCount(launchCount)
        .WithWarmupCount(warmupCount)
        .WithIterationCount(iterationCount)
        .WithEnvironmentVariables(new EnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0")))
{
}
