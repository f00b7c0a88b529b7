using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace SchedExt.Webhook.Policy;

/// <summary>Turns the policy file's text into a validated <see cref="WebhookPolicy"/>, or throws <see cref="PolicyException"/> naming the first bad key.</summary>
internal static class PolicyCompiler
{
    private static readonly string[] DefaultExcludedNamespaces = ["kube-system", "kube-public", "kube-node-lease"];

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .WithDuplicateKeyChecking()
        .Build();

    public static WebhookPolicy Compile(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        PolicyDocument? doc;
        try
        {
            doc = Yaml.Deserialize<PolicyDocument?>(yaml);
        }
        catch (YamlException ex)
        {
            // YamlDotNet puts the position in Start and the reason in the innermost exception.
            var reason = ex.InnerException?.Message ?? ex.Message;
            throw new PolicyException($"line {ex.Start.Line}, column {ex.Start.Column}: {reason}", ex);
        }

        doc ??= new PolicyDocument();
        if (doc.Kind is not null and not "WebhookPolicy")
        {
            throw new PolicyException($"kind: '{doc.Kind}' is not WebhookPolicy");
        }

        var profiles = new Dictionary<string, IntentRule>(StringComparer.Ordinal);
        foreach (var (name, profile) in doc.Profiles ?? [])
        {
            if (string.IsNullOrWhiteSpace(name) || profile is null)
            {
                throw new PolicyException($"profiles.{name}: a profile needs a name and a body");
            }

            var rule = CompileIntent($"profiles.{name}", profile);
            if (rule.Gpus is null)
            {
                throw new PolicyException($"profiles.{name}.gpus: required (1..{NodeTopology.MaxGpus})");
            }

            profiles.Add(name, rule);
        }

        var devices = doc.Devices ?? new DevicesDocument();
        var resourceName = devices.ResourceName ?? SchedExtKeys.GpuResource;
        if (!KubernetesNames.IsQualifiedName(resourceName) || !resourceName.Contains('/', StringComparison.Ordinal))
        {
            throw new PolicyException($"devices.resourceName: '{resourceName}' is not an extended resource name (domain/name)");
        }

        // The API server validates a pod's resource claim name as a DNS label and spec.schedulerName and the claim
        // template's name as DNS subdomains (pkg/apis/core/validation): a policy that would write anything else would
        // have every patched pod refused at creation.
        var claimName = devices.Dra?.ClaimName ?? "gpus";
        if (!KubernetesNames.IsDns1123Label(claimName))
        {
            throw new PolicyException($"devices.dra.claimName: '{claimName}' is not a valid claim name (a DNS label: lower-case letters, digits and '-', at most 63)");
        }

        var schedulerName = NullIfEmpty(doc.SchedulerName);
        if (schedulerName is not null && !KubernetesNames.IsDns1123Subdomain(schedulerName))
        {
            throw new PolicyException($"schedulerName: '{schedulerName}' is not a valid scheduler name (a DNS subdomain: lower-case letters, digits, '-' and '.')");
        }

        var scope = doc.Scope ?? new ScopeDocument();
        return new WebhookPolicy
        {
            Mode = ParseMode("mode", doc.Mode) ?? PolicyMode.Enforce,
            SchedulerName = schedulerName,
            Enforce = ParseEnforced("enforce", doc.Enforce),
            Namespaces = (scope.Namespaces ?? []).ToFrozenSet(StringComparer.Ordinal),
            ExcludedNamespaces = (scope.ExcludeNamespaces ?? [.. DefaultExcludedNamespaces]).ToFrozenSet(StringComparer.Ordinal),
            NamespaceSelector = (scope.NamespaceSelector ?? []).ToFrozenDictionary(StringComparer.Ordinal),
            DeviceMode = devices.Mode switch
            {
                null or "extended-resource" => DeviceRequestMode.ExtendedResource,
                "dra" => DeviceRequestMode.Dra,
                _ => throw new PolicyException($"devices.mode: '{devices.Mode}' is not extended-resource or dra"),
            },
            ResourceName = resourceName,
            DefaultContainer = NullIfEmpty(devices.Container),
            DraClaimName = claimName,
            DraClaimTemplate = ParseClaimTemplate(devices.Dra?.ClaimTemplate ?? "schedext-gpus-{gpus}"),
            GpuPool = CompilePool("pools.gpu", doc.Pools?.Gpu),
            BareMetalPool = CompilePool("pools.bareMetal", doc.Pools?.BareMetal),
            VmPool = CompilePool("pools.vm", doc.Pools?.Vm),
            Profiles = profiles.ToFrozenDictionary(StringComparer.Ordinal),
            NamespaceDefaults = CompileNamespaceDefaults(doc.NamespaceDefaults, profiles),
            FleetLabels = CompileFleetLabels(doc.FleetLabels),
            Version = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml)))[..12],
        };
    }

    private static List<NamespaceRule> CompileNamespaceDefaults(List<NamespaceDefaultDocument>? docs, Dictionary<string, IntentRule> profiles)
    {
        var rules = new List<NamespaceRule>();
        for (var i = 0; i < (docs?.Count ?? 0); i++)
        {
            var d = docs![i] ?? throw new PolicyException($"namespaceDefaults[{i}]: empty entry");
            var at = $"namespaceDefaults[{i}]";
            if (d.Profile is not null && !profiles.ContainsKey(d.Profile))
            {
                throw new PolicyException($"{at}.profile: '{d.Profile}' is not a profile (known: {string.Join(", ", profiles.Keys.Order(StringComparer.Ordinal))})");
            }

            if ((d.MatchLabels?.Count ?? 0) == 0 && (d.Namespaces?.Count ?? 0) == 0)
            {
                throw new PolicyException($"{at}: needs matchLabels or namespaces (an entry that matches every namespace belongs in the profiles or the top-level keys)");
            }

            rules.Add(new NamespaceRule(
                [.. d.Namespaces ?? []],
                (d.MatchLabels ?? []).ToFrozenDictionary(StringComparer.Ordinal),
                d.Profile,
                ParseMode($"{at}.mode", d.Mode),
                CompileIntent(at, d)));
        }

        return rules;
    }

    private static List<FleetLabel> CompileFleetLabels(Dictionary<string, string>? labels)
    {
        var list = new List<FleetLabel>();
        foreach (var (key, template) in labels ?? [])
        {
            if (!KubernetesNames.IsQualifiedName(key))
            {
                throw new PolicyException($"fleetLabels: '{key}' is not a valid label key");
            }

            list.Add(new FleetLabel(key, ParseTemplate($"fleetLabels.{key}", template ?? string.Empty)));
        }

        return list;
    }

    private static IntentRule CompileIntent(string at, IntentDocument d)
    {
        if (d.Gpus is { } gpus && gpus is < 1 or > NodeTopology.MaxGpus)
        {
            throw new PolicyException($"{at}.gpus: {gpus} is out of range 1..{NodeTopology.MaxGpus}");
        }

        Interconnect? interconnect = null;
        if (d.Interconnect is not null)
        {
            interconnect = SchedExtKeys.TryParseInterconnect(d.Interconnect, out var v) ? v : throw Bad(at, "interconnect", d.Interconnect, "nvlink, pcie-switch, numa, any");
        }

        NicNeed? rdma = null;
        if (d.Rdma is not null)
        {
            rdma = SchedExtKeys.TryParseNicNeed(d.Rdma, out var v) ? v : throw Bad(at, "rdma", d.Rdma, "required, preferred, none");
        }

        MachinePolicy? machine = null;
        if (d.Machine is not null)
        {
            machine = SchedExtKeys.TryParseMachinePolicy(d.Machine, out var v) ? v : throw Bad(at, "machine", d.Machine, "bare-metal, vm, any, preferred-bare-metal, preferred-vm");
        }

        if (d.GpuMemory is not null && !SchedExtKeys.TryParseMemoryMiB(d.GpuMemory, out _))
        {
            throw Bad(at, "gpuMemory", d.GpuMemory, "a quantity such as 80Gi, 40960Mi or a MiB count");
        }

        return new IntentRule(
            at,
            d.Gpus,
            interconnect,
            rdma,
            machine,
            NullIfEmpty(d.GpuProduct),
            NullIfEmpty(d.GpuMemory),
            d.PlacementGroup is null ? null : ParseTemplate($"{at}.placementGroup", d.PlacementGroup),
            ParseEnforced($"{at}.enforce", d.Enforce));
    }

    private static PoolRule CompilePool(string at, PoolDocument? pool)
    {
        if (pool is null)
        {
            return PoolRule.Empty;
        }

        var tolerations = new List<Toleration>();
        for (var i = 0; i < (pool.Tolerations?.Count ?? 0); i++)
        {
            var t = pool.Tolerations![i] ?? throw new PolicyException($"{at}.tolerations[{i}]: empty entry");
            tolerations.Add(CompileToleration($"{at}.tolerations[{i}]", t));
        }

        var requirements = new List<NodeRequirement>();
        for (var i = 0; i < (pool.NodeAffinity?.Count ?? 0); i++)
        {
            var r = pool.NodeAffinity![i] ?? throw new PolicyException($"{at}.nodeAffinity[{i}]: empty entry");
            if (string.IsNullOrEmpty(r.Key) || !KubernetesNames.IsQualifiedName(r.Key))
            {
                throw new PolicyException($"{at}.nodeAffinity[{i}].key: '{r.Key}' is not a valid label key");
            }

            var values = r.Values ?? [];
            var ok = r.Operator switch
            {
                "In" or "NotIn" => values.Count > 0,
                "Exists" or "DoesNotExist" => values.Count == 0,
                "Gt" or "Lt" => values.Count == 1 && long.TryParse(values[0], out _),
                _ => throw new PolicyException($"{at}.nodeAffinity[{i}].operator: '{r.Operator}' is not In, NotIn, Exists, DoesNotExist, Gt or Lt"),
            };
            if (!ok)
            {
                throw new PolicyException($"{at}.nodeAffinity[{i}].values: wrong for operator {r.Operator} (In/NotIn need values, Exists/DoesNotExist none, Gt/Lt one integer)");
            }

            requirements.Add(new NodeRequirement(r.Key, r.Operator!, [.. values]));
        }

        var weight = pool.PreferredWeight ?? 50;
        if (weight is < 1 or > 100)
        {
            throw new PolicyException($"{at}.preferredWeight: {weight} is out of range 1..100");
        }

        return new PoolRule(tolerations, requirements, weight);
    }

    /// <summary>Kubernetes' own rules for a toleration (ValidateTolerations in pkg/apis/core/validation/validation.go): the pods the webhook patches must pass them.</summary>
    private static Toleration CompileToleration(string at, TolerationDocument t)
    {
        var key = NullIfEmpty(t.Key);
        var value = NullIfEmpty(t.Value);
        var effect = NullIfEmpty(t.Effect);
        var op = t.Operator ?? "Equal";
        if (op is not ("Equal" or "Exists"))
        {
            throw new PolicyException($"{at}.operator: '{op}' is not Equal or Exists");
        }

        if (key is not null && !KubernetesNames.IsQualifiedName(key))
        {
            throw new PolicyException($"{at}.key: '{key}' is not a valid label key");
        }

        if (key is null && op != "Exists")
        {
            throw new PolicyException($"{at}.operator: must be Exists when key is empty (that tolerates every taint); got {op}");
        }

        if (op == "Exists" && value is not null)
        {
            throw new PolicyException($"{at}.value: must be empty when operator is Exists");
        }

        if (value is not null && !KubernetesNames.IsValidLabelValue(value))
        {
            throw new PolicyException($"{at}.value: '{value}' is not a valid label value");
        }

        if (effect is not (null or "NoSchedule" or "PreferNoSchedule" or "NoExecute"))
        {
            throw new PolicyException($"{at}.effect: '{effect}' is not NoSchedule, PreferNoSchedule or NoExecute");
        }

        if (t.TolerationSeconds is not null && effect != "NoExecute")
        {
            throw new PolicyException($"{at}.effect: must be NoExecute when tolerationSeconds is set (got {effect ?? "none"})");
        }

        return new Toleration(key, op, value, effect, t.TolerationSeconds);
    }

    /// <summary>The claim template with every placeholder standing for a short valid value must be a valid object name.</summary>
    /// <remarks>What placeholders render to (a label, an annotation) is known only per pod; this catches the literal parts.</remarks>
    private static ValueTemplate ParseClaimTemplate(string text)
    {
        const string At = "devices.dra.claimTemplate";
        var template = ParseTemplate(At, text);
        if (!KubernetesNames.IsDns1123Subdomain(template.Render(SampleScope.Instance)))
        {
            throw new PolicyException($"{At}: '{text}' does not make a valid ResourceClaimTemplate name (a DNS subdomain: lower-case letters, digits, '-' and '.')");
        }

        return template;
    }

    private static PolicyMode? ParseMode(string at, string? mode) => mode switch
    {
        null => null,
        "enforce" => PolicyMode.Enforce,
        "warn" => PolicyMode.Warn,
        "shadow" => PolicyMode.Shadow,
        _ => throw new PolicyException($"{at}: '{mode}' is not enforce, warn or shadow"),
    };

    private static EnforcedFields ParseEnforced(string at, List<string>? names)
    {
        var fields = EnforcedFields.None;
        foreach (var name in names ?? [])
        {
            fields |= name switch
            {
                "gpus" => EnforcedFields.Gpus,
                "interconnect" => EnforcedFields.Interconnect,
                "rdma" => EnforcedFields.Rdma,
                "machine" => EnforcedFields.Machine,
                "gpuProduct" => EnforcedFields.GpuProduct,
                "gpuMemory" => EnforcedFields.GpuMemory,
                "placementGroup" => EnforcedFields.PlacementGroup,
                "schedulerName" => EnforcedFields.SchedulerName,
                "labels" => EnforcedFields.Labels,
                _ => throw new PolicyException(
                    $"{at}: '{name}' is not an enforceable field (gpus, interconnect, rdma, machine, gpuProduct, gpuMemory, placementGroup, schedulerName, labels)"),
            };
        }

        return fields;
    }

    private static ValueTemplate ParseTemplate(string at, string text)
    {
        try
        {
            return ValueTemplate.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new PolicyException($"{at}: {ex.Message}", ex);
        }
    }

    private static PolicyException Bad(string at, string key, string value, string expected) =>
        new($"{at}.{key}: '{value}' is not one of {expected}");

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>A pod for which every template variable and lookup has the value <c>0</c>.</summary>
    private sealed class SampleScope : ITemplateScope
    {
        public static readonly SampleScope Instance = new();

        public string? Variable(TemplateVariable variable) => "0";

        public string? Lookup(TemplateVariable source, string key) => "0";
    }
}
