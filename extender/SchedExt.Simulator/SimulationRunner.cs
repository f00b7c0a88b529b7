using SchedExt.Extender;
using SchedExt.Extender.Scheduling;
using SchedExt.Simulator.Engine;
using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Policies;
using SchedExt.Simulator.Results;
using SchedExt.Topology.Search;

namespace SchedExt.Simulator;

/// <summary>Loads the inputs a <see cref="SimulationSettings"/> names and replays the trace under each policy.</summary>
internal static class SimulationRunner
{
    /// <summary>Reads the cluster: a snapshot file through the extender's readers, or a compact spec.</summary>
    public static ClusterInput LoadCluster(SimulationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.ClusterFile is { } file ? ClusterInput.FromSnapshotFile(file) : ClusterInput.FromSpec(settings.ClusterSpec!);
    }

    /// <summary>Reads the trace file, or generates the synthetic trace for <paramref name="cluster"/>.</summary>
    public static IReadOnlyList<SimJob> LoadJobs(SimulationSettings settings, ClusterInput cluster)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(cluster);
        if (settings.TraceFile is { } file)
        {
            return TraceReader.Load(file);
        }

        return SyntheticTrace.Generate(settings.SyntheticJobs!.Value, settings.Seed, Math.Max(1, cluster.TotalGpus), settings.Load);
    }

    /// <summary>Creates the named policy; SchedExt's uses the extender's default score weights.</summary>
    public static IPlacementPolicy CreatePolicy(string name, ulong seed, ExtenderOptions? options = null) => name switch
    {
        SchedExtPolicy.PolicyName => CreateSchedExt(options),
        FirstFitPolicy.PolicyName => new FirstFitPolicy(),
        RandomFeasiblePolicy.PolicyName => new RandomFeasiblePolicy(seed),
        _ => throw new ArgumentException($"unknown policy '{name}'", nameof(name)),
    };

    /// <summary>Runs every policy of <paramref name="settings"/> in order; <paramref name="progress"/> gets (policy, jobs arrived).</summary>
    public static IReadOnlyList<PolicyResult> Run(SimulationSettings settings, ClusterInput cluster, IReadOnlyList<SimJob> jobs, Action<string, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var facts = new ShapeFactsCache();
        var results = new List<PolicyResult>();
        foreach (var name in settings.Policies)
        {
            var policy = CreatePolicy(name, settings.Seed);
            var simulation = new Simulation(policy, cluster, jobs, facts);
            results.Add(simulation.Run(progress is null ? null : n => progress(name, n)));
        }

        return results;
    }

    private static SchedExtPolicy CreateSchedExt(ExtenderOptions? options)
    {
        var engine = new PlacementEngine((options ?? new ExtenderOptions()).Weights.ToWeights());
        return new SchedExtPolicy(new PlacementPlanner(engine), new RequestCache(engine));
    }
}
