using SchedExt.Testing;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Policy;

namespace SchedExt.Webhook.Tests;

public sealed class PolicyCompilerTests
{
    private static string ExamplePolicy =>
        File.ReadAllText(Path.Combine(TestData.Directory, "..", "..", "webhook", "SchedExt.Webhook", "policy.example.yaml"));

    [Fact]
    public void Compile_ExamplePolicy_IsValidAndComplete()
    {
        var policy = PolicyCompiler.Compile(ExamplePolicy);

        Assert.Equal(PolicyMode.Enforce, policy.Mode);
        Assert.Equal("schedext-scheduler", policy.SchedulerName);
        Assert.Equal(["finetune-4x", "infer-1x", "train-8x-h100"], policy.Profiles.Keys.Order(StringComparer.Ordinal));
        var train = policy.Profiles["train-8x-h100"];
        Assert.Equal(8, train.Gpus);
        Assert.Equal(Interconnect.NvLink, train.Interconnect);
        Assert.Equal(NicNeed.Required, train.Rdma);
        Assert.Equal(MachinePolicy.RequireBareMetal, train.Machine);
        Assert.Equal("*H100*", train.GpuProduct);
        Assert.Equal("79Gi", train.GpuMemory);
        Assert.Equal(2, policy.NamespaceDefaults.Count);
        Assert.Equal(PolicyMode.Warn, policy.NamespaceDefaults[1].Mode);
        Assert.Equal(EnforcedFields.Machine, policy.NamespaceDefaults[1].Intent.Enforce);
        Assert.Equal(4, policy.FleetLabels.Count);
        Assert.Equal(80, policy.BareMetalPool.PreferredWeight);
        Assert.False(policy.NamespaceInScope("kube-system"));
    }

    [Theory]
    [InlineData("webhook/SchedExt.Webhook/policy.example.yaml")]
    [InlineData("manifests/base/webhook/policy.yaml")]
    public void Compile_ShippedPolicyFile_IsValid(string relativePath)
    {
        // The policies users deploy must never be the ones the webhook refuses.
        var path = Path.Combine(TestData.Directory, "..", "..", relativePath);

        var policy = PolicyCompiler.Compile(File.ReadAllText(path));

        Assert.NotEmpty(policy.Profiles);
    }

    [Fact]
    public void Compile_EmptyFile_GivesSafeDefaults()
    {
        var policy = PolicyCompiler.Compile(string.Empty);

        Assert.Equal(PolicyMode.Enforce, policy.Mode);
        Assert.Null(policy.SchedulerName);
        Assert.Equal(DeviceRequestMode.ExtendedResource, policy.DeviceMode);
        Assert.Equal(SchedExtKeys.GpuResource, policy.ResourceName);
        Assert.Empty(policy.Profiles);
        Assert.False(policy.NamespaceInScope("kube-system"));
        Assert.True(policy.NamespaceInScope("default"));
    }

    public static TheoryData<string, string, string> BadPolicies() => new()
    {
        { "malformed YAML", "mode: [enforce", "line " },
        { "unknown key", "modes: enforce", "modes" },
        { "duplicate key", "mode: enforce\nmode: warn", "duplicate key mode" },
        { "bad mode", "mode: strict", "mode: 'strict' is not enforce, warn or shadow" },
        { "wrong kind", "kind: ConfigMap", "kind: 'ConfigMap' is not WebhookPolicy" },
        { "bad enforce field", "enforce: [color]", "enforce: 'color' is not an enforceable field" },
        { "profile without gpus", "profiles:\n  p: {interconnect: nvlink}", "profiles.p.gpus: required" },
        { "profile gpus out of range", "profiles:\n  p: {gpus: 65}", "profiles.p.gpus: 65 is out of range 1..64" },
        { "profile bad interconnect", "profiles:\n  p: {gpus: 1, interconnect: fast}", "profiles.p.interconnect: 'fast' is not one of" },
        { "profile bad rdma", "profiles:\n  p: {gpus: 1, rdma: maybe}", "profiles.p.rdma: 'maybe'" },
        { "profile bad machine", "profiles:\n  p: {gpus: 1, machine: cloud}", "profiles.p.machine: 'cloud'" },
        { "profile bad memory", "profiles:\n  p: {gpus: 1, gpuMemory: lots}", "profiles.p.gpuMemory: 'lots'" },
        { "profile bad template", "profiles:\n  p: {gpus: 1, placementGroup: \"{job}\"}", "unknown variable 'job'" },
        { "unclosed template", "fleetLabels:\n  a.io/b: \"{pool\"", "is never closed" },
        { "bad label key", "fleetLabels:\n  \"Bad Key!\": x", "'Bad Key!' is not a valid label key" },
        { "namespace default without selector", "namespaceDefaults:\n  - rdma: required", "needs matchLabels or namespaces" },
        { "namespace default unknown profile", "namespaceDefaults:\n  - {namespaces: [a], profile: nope}", "profile: 'nope' is not a profile" },
        { "bad device mode", "devices: {mode: mig}", "devices.mode: 'mig'" },
        { "bad resource name", "devices: {resourceName: gpu}", "devices.resourceName: 'gpu'" },
        { "bad claim name", "devices: {dra: {claimName: a/b}}", "devices.dra.claimName" },
        { "bad toleration operator", "pools:\n  gpu: {tolerations: [{key: a, operator: Matches}]}", "pools.gpu.tolerations[0].operator" },
        { "toleration without key, operator Equal", "pools:\n  gpu: {tolerations: [{operator: Equal, value: x, effect: NoSchedule}]}", "pools.gpu.tolerations[0].operator: must be Exists when key is empty" },
        { "toleration without key or operator", "pools:\n  gpu: {tolerations: [{effect: NoSchedule}]}", "pools.gpu.tolerations[0].operator: must be Exists when key is empty" },
        { "tolerationSeconds without NoExecute", "pools:\n  gpu: {tolerations: [{key: a, operator: Exists, effect: NoSchedule, tolerationSeconds: 30}]}", "pools.gpu.tolerations[0].effect: must be NoExecute when tolerationSeconds is set" },
        { "tolerationSeconds without effect", "pools:\n  gpu: {tolerations: [{key: a, operator: Exists, tolerationSeconds: 30}]}", "pools.gpu.tolerations[0].effect: must be NoExecute" },
        { "bad toleration key", "pools:\n  vm: {tolerations: [{key: \"gpu type\", operator: Exists}]}", "pools.vm.tolerations[0].key: 'gpu type' is not a valid label key" },
        { "bad toleration value", "pools:\n  vm: {tolerations: [{key: a, value: \"two words\"}]}", "pools.vm.tolerations[0].value: 'two words' is not a valid label value" },
        { "toleration Exists with value", "pools:\n  gpu: {tolerations: [{key: a, operator: Exists, value: x}]}", "pools.gpu.tolerations[0].value: must be empty when operator is Exists" },
        { "bad scheduler name", "schedulerName: My_Scheduler", "schedulerName: 'My_Scheduler' is not a valid scheduler name" },
        { "bad claim template literal", "devices: {dra: {claimTemplate: \"GPUs_{gpus}\"}}", "devices.dra.claimTemplate: 'GPUs_{gpus}'" },
        { "claim template ending in a dash", "devices: {dra: {claimTemplate: \"gpus-\"}}", "devices.dra.claimTemplate: 'gpus-'" },
        { "claim name not a DNS label", "devices: {dra: {claimName: GPUs}}", "devices.dra.claimName: 'GPUs'" },
        { "bad toleration effect", "pools:\n  gpu: {tolerations: [{key: a, operator: Exists, effect: Never}]}", "pools.gpu.tolerations[0].effect" },
        { "In without values", "pools:\n  vm: {nodeAffinity: [{key: a, operator: In}]}", "pools.vm.nodeAffinity[0].values" },
        { "bad affinity operator", "pools:\n  vm: {nodeAffinity: [{key: a, operator: Like}]}", "pools.vm.nodeAffinity[0].operator" },
        { "weight out of range", "pools:\n  bareMetal: {preferredWeight: 101}", "pools.bareMetal.preferredWeight: 101" },
    };

    [Theory]
    [InlineData("match every taint", "{operator: Exists}")]
    [InlineData("every taint of one effect", "{operator: Exists, effect: NoExecute, tolerationSeconds: 300}")]
    [InlineData("key and value", "{key: example.com/gpu-pool, operator: Equal, value: h100, effect: NoSchedule}")]
    [InlineData("operator left to its default", "{key: dedicated, value: gpu}")]
    [InlineData("NoExecute for a while", "{key: a, operator: Exists, effect: NoExecute, tolerationSeconds: 30}")]
    public void Compile_TolerationTheApiServerAccepts_Compiles(string name, string toleration)
    {
        var policy = PolicyCompiler.Compile($"pools:\n  gpu: {{tolerations: [{toleration}]}}");

        Assert.True(policy.GpuPool.Tolerations.Count == 1, name);
    }

    [Theory]
    [InlineData("schedulerName: schedext-scheduler\ndevices: {mode: dra, dra: {claimName: gpus, claimTemplate: \"schedext.gpus-{gpus}\"}}")]
    [InlineData("devices: {dra: {claimTemplate: \"{namespace}-{profile|default}-x{gpus}\"}}")]
    public void Compile_ValidNames_Compile(string yaml)
    {
        Assert.NotNull(PolicyCompiler.Compile(yaml));
    }

    [Theory]
    [MemberData(nameof(BadPolicies))]
    public void Compile_BadPolicy_ThrowsNamingTheKey(string name, string yaml, string reason)
    {
        var ex = Assert.Throws<PolicyException>(() => PolicyCompiler.Compile(yaml));

        Assert.True(ex.Message.Contains(reason, StringComparison.Ordinal), $"{name}: '{ex.Message}' lacks '{reason}'");
    }
}
