using System.Globalization;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Mutation;

/// <summary>One resolved scheduling field: the value to have on the pod, and whether it came from the pod itself.</summary>
internal readonly record struct ResolvedValue(string? Value, bool FromPod)
{
    public static ResolvedValue None => default;
}

/// <summary>The outcome of merging namespace defaults, profile and the pod's own annotations.</summary>
internal sealed class ResolvedIntent : ITemplateScope
{
    public required string Namespace { get; init; }

    public required string PodName { get; init; }

    public required IReadOnlyDictionary<string, string>? NamespaceLabels { get; init; }

    public required IReadOnlyDictionary<string, string> PodLabels { get; init; }

    public required IReadOnlyDictionary<string, string> PodAnnotations { get; init; }

    public string? Profile { get; set; }

    public int? Gpus { get; set; }

    /// <summary>True when the count is an enforced policy value: the device request the pod already has is made to match it.</summary>
    public bool GpusEnforced { get; set; }

    /// <summary>True when the pod's <c>schedext.io/gpus</c> could not be parsed and no enforced source overrides it: it is left as written.</summary>
    public bool GpusAnnotationKept { get; set; }

    public ResolvedValue Interconnect { get; set; }

    public ResolvedValue Rdma { get; set; }

    public ResolvedValue Machine { get; set; }

    public ResolvedValue GpuProduct { get; set; }

    public ResolvedValue GpuMemory { get; set; }

    public ResolvedValue PlacementGroup { get; set; }

    public MachinePolicy MachinePolicy =>
        Machine.Value is { } m && SchedExtKeys.TryParseMachinePolicy(m, out var p) ? p : MachinePolicy.Any;

    /// <summary>The pool the pod goes to: <c>bare-metal</c> or <c>vm</c> when the machine kind is required, else <c>gpu</c>.</summary>
    public string Pool => MachinePolicy switch
    {
        MachinePolicy.RequireBareMetal => "bare-metal",
        MachinePolicy.RequireVm => "vm",
        _ => "gpu",
    };

    /// <summary>The request the extender will see, for the feasibility check; null without a count.</summary>
    public GpuRequest? ToGpuRequest()
    {
        if (Gpus is not { } count)
        {
            return null;
        }

        // Resolved values were validated on the way in; an unset one parses as the default ("any", "none", 0).
        var interconnect = SchedExtKeys.TryParseInterconnect(Interconnect.Value, out var i) ? i : Topology.Requests.Interconnect.Any;
        var nic = SchedExtKeys.TryParseNicNeed(Rdma.Value, out var n) ? n : NicNeed.None;
        var memory = GpuMemory.Value is { } m && SchedExtKeys.TryParseMemoryMiB(m, out var mib) ? mib : 0;

        return new GpuRequest(count, interconnect, nic, MachinePolicy, GpuProduct.Value?.Trim(), memory);
    }

    /// <summary>A short human summary, e.g. <c>8 GPU(s), interconnect=nvlink, rdma=required</c>.</summary>
    public string Describe()
    {
        var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{Gpus} GPU(s)") };
        Append(parts, "interconnect", Interconnect);
        Append(parts, "rdma", Rdma);
        Append(parts, "machine", Machine);
        Append(parts, "gpu-product", GpuProduct);
        Append(parts, "gpu-memory", GpuMemory);
        return string.Join(", ", parts);
    }

    public string? Variable(TemplateVariable variable) => variable switch
    {
        TemplateVariable.Namespace => Namespace,
        TemplateVariable.PodName => PodName,
        TemplateVariable.Profile => Profile,
        TemplateVariable.Gpus => Gpus?.ToString(CultureInfo.InvariantCulture),
        TemplateVariable.Machine => Machine.Value,
        TemplateVariable.Pool => Pool,
        TemplateVariable.Interconnect => Interconnect.Value,
        TemplateVariable.PlacementGroup => PlacementGroup.Value,
        _ => null,
    };

    public string? Lookup(TemplateVariable source, string key) => source switch
    {
        TemplateVariable.NamespaceLabel => NamespaceLabels?.GetValueOrDefault(key),
        TemplateVariable.PodLabel => PodLabels.GetValueOrDefault(key),
        TemplateVariable.PodAnnotation => PodAnnotations.GetValueOrDefault(key),
        _ => null,
    };

    private static void Append(List<string> parts, string name, ResolvedValue value)
    {
        if (value.Value is not null)
        {
            parts.Add($"{name}={value.Value}");
        }
    }
}
