using SchedExt.Simulator.Policies;

namespace SchedExt.Simulator;

/// <summary>What <c>schedext simulate</c> was asked to do (one cluster source, one trace source).</summary>
internal sealed record SimulationSettings
{
    /// <summary>The policies run when none are named, in report order.</summary>
    public static IReadOnlyList<string> AllPolicies { get; } = [SchedExtPolicy.PolicyName, FirstFitPolicy.PolicyName, RandomFeasiblePolicy.PolicyName];

    /// <summary>Snapshot file of Nodes and Pods (YAML or JSON), or null.</summary>
    public string? ClusterFile { get; init; }

    /// <summary>Compact cluster spec such as <c>400x hgx-h200,200x dgx1-v100</c>, or null.</summary>
    public string? ClusterSpec { get; init; }

    /// <summary>Trace file (CSV, or YAML by extension), or null.</summary>
    public string? TraceFile { get; init; }

    /// <summary>Number of synthetic jobs when there is no trace file.</summary>
    public int? SyntheticJobs { get; init; }

    /// <summary>Seed of the synthetic trace and of the random policy.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Average offered load of the synthetic trace, as a share of the cluster's GPUs.</summary>
    public double Load { get; init; } = Inputs.SyntheticTrace.DefaultLoad;

    public IReadOnlyList<string> Policies { get; init; } = AllPolicies;

    /// <summary>Directory for the CSV files and PNG charts, or null for the table only.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Show a progress bar while simulating.</summary>
    public bool Progress { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> when the settings contradict each other.</summary>
    public void Validate()
    {
        if ((ClusterFile is null) == (ClusterSpec is null))
        {
            throw new ArgumentException("give exactly one of a cluster snapshot file (--cluster) or a cluster spec (--cluster-spec)");
        }

        if ((TraceFile is null) == (SyntheticJobs is null))
        {
            throw new ArgumentException("give exactly one of a trace file (--trace) or a synthetic job count (--synthetic-jobs)");
        }

        if (SyntheticJobs is < 1)
        {
            throw new ArgumentException("--synthetic-jobs must be at least 1");
        }

        if (!(Load > 0))
        {
            throw new ArgumentException("the offered load must be positive");
        }

        if (Policies.Count == 0)
        {
            throw new ArgumentException("name at least one policy");
        }

        foreach (var policy in Policies)
        {
            if (!AllPolicies.Contains(policy, StringComparer.Ordinal))
            {
                throw new ArgumentException($"unknown policy '{policy}'; known: {string.Join(", ", AllPolicies)}");
            }
        }

        if (Policies.Distinct(StringComparer.Ordinal).Count() != Policies.Count)
        {
            throw new ArgumentException("a policy is named twice");
        }
    }
}
