namespace SchedExt.Webhook.Policy;

// The YAML shape of the policy file, bound by YamlDotNet (camelCase keys, unknown keys rejected).
// Only PolicyCompiler reads these; everything else uses the compiled, validated WebhookPolicy.

/// <summary>Root of the policy file as written.</summary>
internal sealed class PolicyDocument
{
    public string? ApiVersion { get; init; }

    public string? Kind { get; init; }

    public string? Mode { get; init; }

    public string? SchedulerName { get; init; }

    public List<string>? Enforce { get; init; }

    public ScopeDocument? Scope { get; init; }

    public DevicesDocument? Devices { get; init; }

    public PoolsDocument? Pools { get; init; }

    public Dictionary<string, IntentDocument>? Profiles { get; init; }

    public List<NamespaceDefaultDocument>? NamespaceDefaults { get; init; }

    public Dictionary<string, string>? FleetLabels { get; init; }
}

/// <summary>Which namespaces the webhook acts in.</summary>
internal sealed class ScopeDocument
{
    public List<string>? Namespaces { get; init; }

    public List<string>? ExcludeNamespaces { get; init; }

    public Dictionary<string, string>? NamespaceSelector { get; init; }
}

/// <summary>How GPUs are requested on the pod.</summary>
internal sealed class DevicesDocument
{
    public string? Mode { get; init; }

    public string? ResourceName { get; init; }

    public string? Container { get; init; }

    public DraDocument? Dra { get; init; }
}

/// <summary>Dynamic Resource Allocation settings.</summary>
internal sealed class DraDocument
{
    public string? ClaimName { get; init; }

    public string? ClaimTemplate { get; init; }
}

/// <summary>The node pools a GPU pod is steered to.</summary>
internal sealed class PoolsDocument
{
    public PoolDocument? Gpu { get; init; }

    public PoolDocument? BareMetal { get; init; }

    public PoolDocument? Vm { get; init; }
}

/// <summary>Tolerations and node affinity of one pool.</summary>
internal sealed class PoolDocument
{
    public List<TolerationDocument>? Tolerations { get; init; }

    public List<RequirementDocument>? NodeAffinity { get; init; }

    public int? PreferredWeight { get; init; }
}

/// <summary>A Kubernetes toleration.</summary>
internal sealed class TolerationDocument
{
    public string? Key { get; init; }

    public string? Operator { get; init; }

    public string? Value { get; init; }

    public string? Effect { get; init; }

    public long? TolerationSeconds { get; init; }
}

/// <summary>A Kubernetes node selector requirement.</summary>
internal sealed class RequirementDocument
{
    public string? Key { get; init; }

    public string? Operator { get; init; }

    public List<string>? Values { get; init; }
}

/// <summary>A profile: what a class of pods asks of the GPUs.</summary>
internal class IntentDocument
{
    public int? Gpus { get; init; }

    public string? Interconnect { get; init; }

    public string? Rdma { get; init; }

    public string? Machine { get; init; }

    public string? GpuProduct { get; init; }

    public string? GpuMemory { get; init; }

    public string? PlacementGroup { get; init; }

    public List<string>? Enforce { get; init; }
}

/// <summary>Defaults for the namespaces whose labels match.</summary>
internal sealed class NamespaceDefaultDocument : IntentDocument
{
    public Dictionary<string, string>? MatchLabels { get; init; }

    public List<string>? Namespaces { get; init; }

    public string? Profile { get; init; }

    public string? Mode { get; init; }
}
