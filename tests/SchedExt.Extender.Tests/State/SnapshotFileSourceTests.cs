using Microsoft.Extensions.Time.Testing;
using SchedExt.Extender.Sources;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

public sealed class SnapshotFileSourceTests : IDisposable
{
    private static readonly string V100Pairs = TopologyAnnotation.Serialize(ReferenceTopologies.V100Pairs4);

    private readonly string _directory = Directory.CreateTempSubdirectory("schedext-snapshot-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Start_MultiDocumentYaml_LoadsNodesAndPodsAndMarksSynced()
    {
        var path = Write("cluster.yaml", $"""
            # two nodes, two pods, one namespace that is skipped
            apiVersion: v1
            kind: Namespace
            metadata:
              name: ml
            ---
            apiVersion: v1
            kind: Node
            metadata:
              name: gpu-1
              labels:
                schedext.io/rack: r1
              annotations:
                schedext.io/topology: '{V100Pairs}'
            status:
              allocatable:
                nvidia.com/gpu: "4"
            ---
            apiVersion: v1
            kind: Node
            metadata:
              name: cpu-1
            status:
              allocatable:
                cpu: "64"
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: train
              namespace: ml
              annotations:
                schedext.io/assigned-gpus: "0,1"
            spec:
              nodeName: gpu-1
              containers:
              - name: main
                image: busybox
            status:
              phase: Running
            ---
            """);
        var (source, kit) = Create(path);

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        var snapshot = kit.State.Current;
        Assert.True(snapshot.Synced);
        var node = Assert.Single(snapshot.Nodes.Values);
        Assert.Equal(("gpu-1", "r1", true, 0b11UL), (node.Name, node.Info.Rack, node.Info.Topology.IsKnown, node.UsedGpus));
        var pod = Assert.Single(snapshot.Allocations.Values);
        Assert.Equal("ml/train", pod.Uid);
    }

    [Fact]
    public async Task Start_JsonList_LoadsItems()
    {
        var items = new object[] { KubeObjects.Node("gpu-1", 4, V100Pairs), KubeObjects.Node("gpu-2", 4, V100Pairs), KubeObjects.Pod("ml", "p", "gpu-2", "3") };
        var json = $$"""{"apiVersion":"v1","kind":"List","items":[{{string.Join(",\n", items.Select(i => k8s.KubernetesJson.Serialize(i)))}}]}""";
        var (source, kit) = Create(Write("cluster.json", json));

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        Assert.Equal(2, kit.State.Current.Nodes.Count);
        Assert.Equal(0b1000UL, kit.State.Current.FindNode("gpu-2")!.UsedGpus);
    }

    [Fact]
    public async Task Start_YamlList_LoadsItems()
    {
        var path = Write("list.yaml", """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Node
              metadata:
                name: gpu-1
              status:
                allocatable:
                  nvidia.com/gpu: "2"
            - apiVersion: v1
              kind: Pod
              metadata:
                name: p
                namespace: ml
                uid: 1234
                annotations:
                  schedext.io/assigned-gpus: "1"
              spec:
                nodeName: gpu-1
                containers: []
            """);
        var (source, kit) = Create(path);

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        Assert.Equal(0b10UL, kit.State.Current.FindNode("gpu-1")!.UsedGpus);
        Assert.Equal("1234", Assert.Single(kit.State.Current.Allocations.Keys));
    }

    [Fact]
    public async Task Start_KubectlListWithServerFields_ReadsGpuNodeAndHoldingPod()
    {
        var (source, kit) = Create(TestData.PathOf("snapshot", "kubectl-list.yaml"));

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        var node = Assert.Single(kit.State.Current.Nodes.Values);
        Assert.Equal(("gpu-a-01", "rack-7", SchedExt.Topology.Requests.MachineKind.Vm, 0b1010UL), (node.Name, node.Info.Rack, node.Info.Machine, node.UsedGpus));
        Assert.Equal("no schedext.io/topology annotation", node.Info.TopologyProblem);
        var pod = Assert.Single(kit.State.Current.Allocations.Values);
        Assert.Equal(("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "bert-sweep"), (pod.Uid, pod.PlacementGroup));
    }

    [Theory]
    [InlineData("yaml syntax", "kind: Node\nmetadata: [unclosed\n", "line 3, column 1: While parsing a flow sequence")]
    [InlineData("no kind", "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n", "document 2 (line 5): has no kind")]
    [InlineData("not an object", "- just\n- a list\n", "document 1 (line 1): expected a Kubernetes object")]
    [InlineData("bad field in a node", "apiVersion: v1\nkind: Node\nmetadata:\n  name: gpu-9\nstatus:\n  allocatable: [1, 2]\n", "document 1 (line 1) 'gpu-9'")]
    [InlineData("bad list item", "kind: List\nitems:\n- kind: Pod\n  metadata: {name: ok}\n- 42\n", "items[1] (line 5): expected a Kubernetes object")]
    [InlineData("json syntax", "{\"kind\": \"List\",\n \"items\": [,]}", "line 2")]
    [InlineData("yaml quantity not a number", "apiVersion: v1\nkind: Node\nmetadata: {name: gpu-8}\nstatus: {allocatable: {nvidia.com/gpu: abc}}\n", "'gpu-8'")]
    [InlineData("json quantity not a number", "{\"kind\": \"Node\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"gpu-7\"}, \"status\": {\"allocatable\": {\"nvidia.com/gpu\": \"abc\"}}}", "'gpu-7'")]
    [InlineData("empty", " \n", "the file is empty")]
    public async Task Start_MalformedFile_FailsWithLocatedMessage(string name, string content, string expected)
    {
        Assert.NotNull(name);
        var path = Write("bad.yaml", content);
        var (source, kit) = Create(path);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => source.StartAsync(CancellationToken.None));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);
        Assert.False(kit.State.Current.Synced);
    }

    [Theory]
    [InlineData("no apiVersion", "kind: Node\nmetadata: {name: gpu-1}\nstatus: {allocatable: {nvidia.com/gpu: \"4\"}}\n")]
    [InlineData("unknown apiVersion", "apiVersion: example.com/v9\nkind: Node\nmetadata: {name: gpu-1}\nstatus: {allocatable: {nvidia.com/gpu: \"4\"}}\n")]
    public async Task Start_NodeWithoutOrWithUnknownApiVersion_ReadByKind(string name, string content)
    {
        // Hand-written files often leave apiVersion out; the object is read by its kind (the webhook reads the same files).
        var (source, kit) = Create(Write("cluster.yaml", content));

        await source.StartAsync(CancellationToken.None);
        await source.StopAsync(CancellationToken.None);

        Assert.True(kit.State.Current.FindNode("gpu-1") is not null, name);
    }

    [Fact]
    public async Task ReloadIfChanged_NewFile_ReplacesState_BadFile_KeepsLastGood()
    {
        var path = Write("cluster.yaml", Nodes("gpu-1"));

        // A clock that never moves, so the poll never reloads between a rewrite and the test's own call
        // (Poll_FileChanges_ReloadedOnTimerTick covers the timer).
        var (source, kit) = Create(path, new FakeTimeProvider());
        await source.StartAsync(CancellationToken.None);

        Rewrite(path, Nodes("gpu-2", "gpu-3"));
        Assert.True(source.ReloadIfChanged());
        Assert.Equal(["gpu-2", "gpu-3"], kit.State.Current.Nodes.Keys.Order(StringComparer.Ordinal));

        Rewrite(path, "kind: Node\nmetadata: [broken\n");
        Assert.False(source.ReloadIfChanged());
        Assert.Equal(["gpu-2", "gpu-3"], kit.State.Current.Nodes.Keys.Order(StringComparer.Ordinal));

        // Caught while being rewritten in place (empty), or with a value the models cannot parse: still the last good state.
        Rewrite(path, string.Empty);
        Assert.False(source.ReloadIfChanged());
        Rewrite(path, """{"kind":"Node","apiVersion":"v1","metadata":{"name":"gpu-4"},"status":{"allocatable":{"nvidia.com/gpu":"abc"}}}""");
        Assert.False(source.ReloadIfChanged());
        Assert.Equal(["gpu-2", "gpu-3"], kit.State.Current.Nodes.Keys.Order(StringComparer.Ordinal));

        await source.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Poll_FileChanges_ReloadedOnTimerTick()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var path = Write("cluster.yaml", Nodes("gpu-1"));
        var (source, kit) = Create(path, time);
        await source.StartAsync(CancellationToken.None);

        Rewrite(path, Nodes("gpu-1", "gpu-2"));
        await SourceKit.WaitUntilAsync(
            () =>
            {
                time.Advance(source.PollInterval);
                return kit.State.Current.Nodes.Count == 2;
            },
            "the poll saw the new file");

        await source.StopAsync(CancellationToken.None);
    }

    private static string Nodes(params string[] names) =>
        string.Join("---\n", names.Select(n => $"apiVersion: v1\nkind: Node\nmetadata:\n  name: {n}\nstatus:\n  allocatable:\n    nvidia.com/gpu: \"4\"\n"));

    /// <summary>Writes new content with a later timestamp, so the change is seen even within the file system's time resolution.</summary>
    private static void Rewrite(string path, string content)
    {
        var before = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, content);
        File.SetLastWriteTimeUtc(path, before.AddSeconds(1));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static (SnapshotFileSource Source, SourceKit Kit) Create(string path, TimeProvider? time = null)
    {
        var kit = new SourceKit(new ExtenderOptions { SnapshotFile = path }, time);
        var source = new SnapshotFileSource(kit.State, kit.NodeReader, kit.PodReader, kit.WrappedOptions, kit.Time, SourceKit.Silent<SnapshotFileSource>());
        return (source, kit);
    }
}
