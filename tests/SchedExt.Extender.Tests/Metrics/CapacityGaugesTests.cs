using Microsoft.Extensions.Time.Testing;
using Prometheus;
using SchedExt.Extender;
using SchedExt.Extender.Metrics;
using SchedExt.Extender.Scheduling;
using SchedExt.Extender.State;
using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.Metrics;

/// <summary>The free-capacity gauges, labelled by shape description.</summary>
public sealed class CapacityGaugesTests
{
    private readonly ShapeCatalog _catalog = new();
    private readonly FakeTimeProvider _time = new();
    private readonly ExtenderMetrics _metrics = new(Prometheus.Metrics.NewCustomRegistry());

    [Fact]
    public void Update_TwoShapesDescribedAlike_SummedNotOverwritten()
    {
        // The same DGX-1V wiring with GPUs of another memory size is another shape with the same description.
        var dgx = ReferenceTopologies.Dgx1V100;
        var smaller = dgx.WithGpus(g => g with { MemoryMiB = 16384 });
        var state = new ClusterState(_catalog, _time);
        state.ReplaceAll([Node("a", dgx), Node("b", smaller)], []);
        var (a, b) = (state.Current.FindNode("a")!.Shape, state.Current.FindNode("b")!.Shape);
        Assert.NotSame(a, b);
        Assert.Equal(a.Description, b.Description);

        Update(state);

        Assert.Equal(16, _metrics.FreeGpus.WithLabels(a.Description).Value);
        Assert.Equal(2, _metrics.FreeGroups.WithLabels(a.Description, "nvlink", "4").Value);
    }

    [Fact]
    public void Update_ShapeGone_ItsLabelsRemoved()
    {
        var state = new ClusterState(_catalog, _time);
        state.ReplaceAll([Node("a", ReferenceTopologies.Dgx1V100), Node("h", ReferenceTopologies.HgxH200)], []);
        Update(state);
        var hgx = state.Current.FindNode("h")!.Shape.Description;
        Assert.Contains(_metrics.FreeGpus.GetAllLabelValues(), l => l[0] == hgx);

        state.RemoveNode("h");
        Update(state);

        Assert.DoesNotContain(_metrics.FreeGpus.GetAllLabelValues(), l => l[0] == hgx);
        Assert.DoesNotContain(_metrics.FreeGroups.GetAllLabelValues(), l => l[0] == hgx);
        Assert.Equal(8, _metrics.FreeGpus.WithLabels(state.Current.FindNode("a")!.Shape.Description).Value);
    }

    [Fact]
    public void Update_ReservationExpired_GaugeDropsWithoutTheNodeBeingLookedAt()
    {
        var state = new ClusterState(_catalog, _time);
        state.ReplaceAll([Node("a", ReferenceTopologies.Dgx1V100)], []);
        var reservations = new Reservations(_time);
        Assert.NotEqual(0UL, reservations.ChooseAndReserve(state.Current.FindNode("a")!, state.Current, "uid-1", 0, free => free & 0b11));

        CapacityGauges.Update(_metrics, state, reservations, _time);
        Assert.Equal(1, _metrics.Reservations.Value);

        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        CapacityGauges.Update(_metrics, state, reservations, _time);
        Assert.Equal(0, _metrics.Reservations.Value);
        Assert.Equal(0, reservations.Count);
    }

    private void Update(ClusterState state) => CapacityGauges.Update(_metrics, state, new Reservations(_time), _time);

    private NodeInfo Node(string name, NodeTopology topology) =>
        new(name, topology, _catalog.GetOrAdd(topology), MachineKind.BareMetal, null, null, null);
}
