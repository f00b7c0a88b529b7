using System.Collections.Frozen;
using SchedExt.Topology.Requests;

namespace SchedExt.Webhook.Policy;

/// <summary>What the webhook does with what it computes.</summary>
internal enum PolicyMode : byte
{
    /// <summary>Patch the pod; deny a pod whose request is invalid or can never be placed.</summary>
    Enforce = 0,

    /// <summary>Patch the pod; allow an invalid or unplaceable request with a warning.</summary>
    Warn = 1,

    /// <summary>Compute everything, patch nothing, report in audit annotations and metrics.</summary>
    Shadow = 2,
}

/// <summary>How GPUs are requested on the pod.</summary>
internal enum DeviceRequestMode : byte
{
    /// <summary>An extended-resource limit (<c>nvidia.com/gpu: N</c>) on one container.</summary>
    ExtendedResource = 0,

    /// <summary>A pod resource claim from a ResourceClaimTemplate, referenced by one container.</summary>
    Dra = 1,
}

/// <summary>The fields a policy source may force over a value the user set explicitly.</summary>
[Flags]
internal enum EnforcedFields
{
    None = 0,
    Gpus = 1 << 0,
    Interconnect = 1 << 1,
    Rdma = 1 << 2,
    Machine = 1 << 3,
    GpuProduct = 1 << 4,
    GpuMemory = 1 << 5,
    PlacementGroup = 1 << 6,
    SchedulerName = 1 << 7,
    Labels = 1 << 8,
}

/// <summary>A Kubernetes toleration, in canonical form (operator defaults to <c>Equal</c>).</summary>
internal sealed record Toleration(string? Key, string Operator, string? Value, string? Effect, long? TolerationSeconds);

/// <summary>A Kubernetes node selector requirement.</summary>
internal sealed record NodeRequirement(string Key, string Operator, IReadOnlyList<string> Values)
{
    public bool Equals(NodeRequirement? other) =>
        other is not null && Key == other.Key && Operator == other.Operator && Values.SequenceEqual(other.Values);

    public override int GetHashCode() => HashCode.Combine(Key, Operator, Values.Count);
}

/// <summary>Tolerations and node affinity that steer a pod to one pool.</summary>
internal sealed record PoolRule(IReadOnlyList<Toleration> Tolerations, IReadOnlyList<NodeRequirement> NodeAffinity, int PreferredWeight)
{
    public static PoolRule Empty { get; } = new([], [], 50);
}

/// <summary>Intent from one policy source (global, namespace default or profile); null fields are unspecified.</summary>
internal sealed record IntentRule(
    string Source,
    int? Gpus,
    Interconnect? Interconnect,
    NicNeed? Rdma,
    MachinePolicy? Machine,
    string? GpuProduct,
    string? GpuMemory,
    ValueTemplate? PlacementGroup,
    EnforcedFields Enforce);

/// <summary>A namespace default: applies to pods in namespaces whose name and labels match.</summary>
internal sealed record NamespaceRule(
    IReadOnlyList<string> Namespaces,
    IReadOnlyDictionary<string, string> MatchLabels,
    string? Profile,
    PolicyMode? Mode,
    IntentRule Intent)
{
    public bool Matches(string ns, IReadOnlyDictionary<string, string>? labels) =>
        (Namespaces.Count == 0 || Namespaces.Contains(ns, StringComparer.Ordinal)) && WebhookPolicy.LabelsMatch(MatchLabels, labels);
}

/// <summary>One fleet placement label: a key and the template of its value.</summary>
internal sealed record FleetLabel(string Key, ValueTemplate Value);

/// <summary>The compiled, validated, immutable policy. Swapped atomically on reload; read without locks.</summary>
internal sealed class WebhookPolicy
{
    public required PolicyMode Mode { get; init; }

    public required string? SchedulerName { get; init; }

    public required EnforcedFields Enforce { get; init; }

    public required FrozenSet<string> Namespaces { get; init; }

    public required FrozenSet<string> ExcludedNamespaces { get; init; }

    public required IReadOnlyDictionary<string, string> NamespaceSelector { get; init; }

    public required DeviceRequestMode DeviceMode { get; init; }

    public required string ResourceName { get; init; }

    public required string? DefaultContainer { get; init; }

    public required string DraClaimName { get; init; }

    public required ValueTemplate DraClaimTemplate { get; init; }

    public required PoolRule GpuPool { get; init; }

    public required PoolRule BareMetalPool { get; init; }

    public required PoolRule VmPool { get; init; }

    public required FrozenDictionary<string, IntentRule> Profiles { get; init; }

    public required IReadOnlyList<NamespaceRule> NamespaceDefaults { get; init; }

    public required IReadOnlyList<FleetLabel> FleetLabels { get; init; }

    /// <summary>SHA-256 of the file the policy came from (hex, first 12 chars): tells reloads apart in logs and metrics.</summary>
    public required string Version { get; init; }

    /// <summary>Whether pods in namespace <paramref name="ns"/> are in scope, before namespace labels are consulted.</summary>
    public bool NamespaceInScope(string ns) =>
        !ExcludedNamespaces.Contains(ns) && (Namespaces.Count == 0 || Namespaces.Contains(ns));

    /// <summary>The first namespace default that matches, or null.</summary>
    public NamespaceRule? NamespaceDefaultFor(string ns, IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var rule in NamespaceDefaults)
        {
            if (rule.Matches(ns, labels))
            {
                return rule;
            }
        }

        return null;
    }

    internal static bool LabelsMatch(IReadOnlyDictionary<string, string> required, IReadOnlyDictionary<string, string>? labels)
    {
        foreach (var (key, value) in required)
        {
            if (labels is null || !labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }
}
