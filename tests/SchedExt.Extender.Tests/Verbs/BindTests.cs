using Microsoft.Extensions.DependencyInjection;
using SchedExt.Extender.State;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>Bind in the in-memory mode (snapshot file): what the pod gets, idempotency, and no overlap under concurrency.</summary>
public sealed class BindTests
{
    private static string Pod(string name, int gpus, string interconnect = "any") =>
        "{\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\"train\",\"uid\":\"uid-" + name + "\",\"annotations\":{\"schedext.io/interconnect\":\"" + interconnect
        + "\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"nvidia.com/gpu\":\"" + gpus + "\"}}}]}}";

    private static string Bind(string name, string node) => $$"""{"PodName":"{{name}}","PodNamespace":"train","PodUID":"uid-{{name}}","Node":"{{node}}"}""";

    [Fact]
    public async Task Bind_FourGpuNvLinkOnFreeDgx_GetsLowerQuadAndIsRecorded()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("q", 4, "nvlink")}},"NodeNames":["dgx-free"]}""");
        var (status, body) = await factory.PostAsync("bind", Bind("q", "dgx-free"));
        Assert.Equal((200, """{"Error":""}"""), (status, body));
        var allocation = factory.State.Current.Allocations["uid-q"];
        Assert.Equal(("dgx-free", 0x0FUL), (allocation.Node, allocation.Gpus));
    }

    [Fact]
    public async Task Bind_PodOfAPlacementGroup_KeepsItsGroup()
    {
        // The group is the pod's own (as filter saw it), not part of the assignment the bind writes; an earlier version
        // of the in-memory bind kept only the written keys and lost it.
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var pod = Pod("g", 1).Replace("\"annotations\":{", "\"annotations\":{\"schedext.io/placement-group\":\"job-7\",", StringComparison.Ordinal);
        await factory.PostAsync("filter", $$"""{"Pod":{{pod}},"NodeNames":["dgx-free"]}""");

        var (_, body) = await factory.PostAsync("bind", Bind("g", "dgx-free"));

        Assert.Equal("""{"Error":""}""", body);
        Assert.Equal("job-7", factory.Services.GetRequiredService<ClusterState>().Current.Allocations["uid-g"].PlacementGroup);
    }

    [Fact]
    public async Task Bind_ThenSnapshotFileReloaded_PodKeepsItsGpus()
    {
        // The file does not list pods this process bound; a reload must not offer their GPUs again.
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("all", 8)}},"NodeNames":["dgx-free"]}""");
        Assert.Equal("""{"Error":""}""", (await factory.PostAsync("bind", Bind("all", "dgx-free"))).Body);

        var source = factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<SchedExt.Extender.Sources.SnapshotFileSource>().Single();
        File.AppendAllText(source.Path, "# edited\n");
        File.SetLastWriteTimeUtc(source.Path, File.GetLastWriteTimeUtc(source.Path).AddSeconds(5));
        Assert.True(source.ReloadIfChanged());

        Assert.Equal(0xFFUL, factory.State.Current.FindNode("dgx-free")!.UsedGpus);
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("late", 1)}},"NodeNames":["dgx-free"]}""");
        var (_, body) = await factory.PostAsync("bind", Bind("late", "dgx-free"));
        Assert.Contains("no longer fits", body, StringComparison.Ordinal);

        // Once the file lists the pod itself (here: finished), it is the file's: its GPUs are free again.
        File.AppendAllText(source.Path, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: all, namespace: train, uid: uid-all}\nspec: {nodeName: dgx-free}\nstatus: {phase: Succeeded}\n");
        File.SetLastWriteTimeUtc(source.Path, File.GetLastWriteTimeUtc(source.Path).AddSeconds(5));
        Assert.True(source.ReloadIfChanged());
        Assert.Equal(0UL, factory.State.Current.FindNode("dgx-free")!.UsedGpus);
    }

    [Fact]
    public async Task Bind_SamePodTwice_IsIdempotent()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("twice", 2)}},"NodeNames":["dgx-free"]}""");
        Assert.Equal("""{"Error":""}""", (await factory.PostAsync("bind", Bind("twice", "dgx-free"))).Body);
        var first = factory.State.Current.Allocations["uid-twice"].Gpus;
        Assert.Equal("""{"Error":""}""", (await factory.PostAsync("bind", Bind("twice", "dgx-free"))).Body);
        Assert.Equal(first, factory.State.Current.Allocations["uid-twice"].Gpus);
        Assert.Single(factory.State.Current.Allocations.Values, a => a.Name == "twice");
    }

    [Fact]
    public async Task Bind_ConcurrentPodsOnOneNode_NeverShareAGpu()
    {
        // 12 one-GPU pods race for the 8 GPUs of dgx-free: 8 must win distinct GPUs, 4 must get an Error.
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        var names = Enumerable.Range(0, 12).Select(i => $"race-{i}").ToArray();
        foreach (var n in names)
        {
            await factory.PostAsync("filter", $$"""{"Pod":{{Pod(n, 1)}},"NodeNames":["dgx-free"]}""");
        }

        var results = await Task.WhenAll(names.Select(n => factory.PostAsync("bind", Bind(n, "dgx-free"))));
        Assert.All(results, r => Assert.Equal(200, r.Status));
        Assert.Equal(8, results.Count(r => r.Body == """{"Error":""}"""));
        var masks = factory.State.Current.Allocations.Values.Where(a => a.Node == "dgx-free").Select(a => a.Gpus).ToList();
        Assert.Equal(8, masks.Count);
        Assert.Equal(0xFFUL, masks.Aggregate(0UL, (acc, m) =>
        {
            Assert.Equal(0UL, acc & m);
            return acc | m;
        }));
    }

    [Fact]
    public async Task Filter_AfterBind_SeesGpusTaken()
    {
        using var factory = new ExtenderFactory(GoldenCluster.Objects());
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("first", 4, "nvlink")}},"NodeNames":["dgx-free"]}""");
        await factory.PostAsync("bind", Bind("first", "dgx-free"));
        await factory.PostAsync("filter", $$"""{"Pod":{{Pod("second", 4, "nvlink")}},"NodeNames":["dgx-free"]}""");
        await factory.PostAsync("bind", Bind("second", "dgx-free"));
        var (_, body) = await factory.PostAsync("filter", $$"""{"Pod":{{Pod("third", 1)}},"NodeNames":["dgx-free"]}""");
        Assert.Contains("needs 1 free GPU; 0 free", body, StringComparison.Ordinal);
    }
}
