using SchedExt.Testing;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Scoring;
using SchedExt.Topology.Search;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Search;

/// <summary>A minimum GPU memory against GPUs whose memory is known, too small, or unknown: what fits and what is said.</summary>
public sealed class MemoryReasonTests
{
    private static readonly PlacementEngine Engine = new(ScoreWeights.Default);
    private readonly ShapeCatalog _catalog = new();

    private NodeVerdict Evaluate(NodeTopology topology, GpuRequest request)
    {
        var shape = _catalog.GetOrAdd(topology);
        return Engine.Evaluate(Engine.Compile(request), shape, shape.AllGpus, new NodeContext(MachineKind.BareMetal));
    }

    [Fact]
    public void Evaluate_MemoryUnknown_SaysSoAndIsUnresolvable()
    {
        var verdict = Evaluate(Topologies.NvSwitch8().WithGpus(g => g with { MemoryMiB = 0 }), new GpuRequest(8, MinMemoryMiB: 80896));

        Assert.Equal(Infeasibility.GpuMemoryUnknown, verdict.Reason);
        Assert.True(verdict.Unresolvable);
        Assert.Equal(
            "needs 8 GPUs with at least 80896 MiB; the memory of 8 GPUs is unknown (no usable memMiB in schedext.io/topology or nvidia.com/gpu.memory label)",
            verdict.ReasonText());
    }

    [Fact]
    public void Evaluate_MemoryKnownButSmall_NoMatchingProduct()
    {
        var verdict = Evaluate(Topologies.NvSwitch8(memoryMiB: 40960), new GpuRequest(8, MinMemoryMiB: 80896));

        Assert.Equal(Infeasibility.NoMatchingProduct, verdict.Reason);
        Assert.Equal("needs 8 free GPUs with at least 80896 MiB; 0 free GPUs do", verdict.ReasonText());
    }

    [Fact]
    public void Evaluate_UnknownOnesWouldNotBeEnough_NoMatchingProduct()
    {
        // Four GPUs are known to be too small and four are unknown: even if the unknown ones were large, 8 cannot fit.
        var mixed = Topologies.NvSwitch8(memoryMiB: 40960).WithGpus(g => g.Index < 4 ? g with { MemoryMiB = 0 } : g);

        Assert.Equal(Infeasibility.NoMatchingProduct, Evaluate(mixed, new GpuRequest(8, MinMemoryMiB: 80896)).Reason);
        Assert.Equal(Infeasibility.GpuMemoryUnknown, Evaluate(mixed, new GpuRequest(4, MinMemoryMiB: 80896)).Reason);
    }

    [Fact]
    public void Evaluate_ProductMismatchWithUnknownMemory_NotBlamedOnMemory()
    {
        var verdict = Evaluate(Topologies.NvSwitch8().WithGpus(g => g with { MemoryMiB = 0 }), new GpuRequest(2, ProductGlob: "*A100*", MinMemoryMiB: 1024));

        Assert.Equal(Infeasibility.NoMatchingProduct, verdict.Reason);
    }
}
