using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Policies;
using SchedExt.Simulator.Results;

namespace SchedExt.Simulator.Tests;

/// <summary>Runs a small hand-written scenario: a cluster spec and an inline CSV trace.</summary>
internal static class Scenario
{
    public static PolicyResult Run(string policy, string clusterSpec, string traceCsv, ulong seed = 1) =>
        Run(SimulationRunner.CreatePolicy(policy, seed), ClusterInput.FromSpec(clusterSpec), TraceReader.ParseCsv(traceCsv, "trace.csv"));

    public static PolicyResult Run(IPlacementPolicy policy, ClusterInput cluster, IReadOnlyList<SimJob> jobs) =>
        new Simulation(policy, cluster, jobs, new ShapeFactsCache()).Run();

    /// <summary>"node:gpu,gpu" of a job, for readable assertions.</summary>
    public static string Where(this PolicyResult result, int job) =>
        result.NodeOf[job] < 0 ? "never" : $"{result.NodeNames[result.NodeOf[job]]}:{Extender.State.AssignedGpus.Format(result.GpusOf[job])}";
}
