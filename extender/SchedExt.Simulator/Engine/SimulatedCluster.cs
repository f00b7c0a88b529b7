using System.Numerics;
using SchedExt.Extender.State;
using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Engine;

/// <summary>
/// The cluster during one policy's simulation: per node a <see cref="NodeState"/> replaced on every allocation and
/// release, and a <see cref="ClusterSnapshot"/> over live dictionaries (nodes, used masks, placement groups) that are
/// updated in place, so the extender's <c>PlacementPlanner</c> reads the current state without a snapshot rebuild per
/// event. Also keeps the running totals the timeline samples (GPUs in use, GPUs stranded for NVLink jobs).
/// </summary>
/// <remarks>
/// The extender treats a snapshot as immutable because verbs read it concurrently with rebuilds. The simulator is
/// single-threaded and evaluates between changes, so mutating the dictionaries behind its snapshot is safe here and
/// keeps an event O(1) instead of O(nodes). Per-pod allocations are not recorded in the snapshot (the planner does not
/// read them).
/// </remarks>
internal sealed class SimulatedCluster
{
    private readonly NodeState[] _nodes;
    private readonly ShapeFacts[] _facts;
    private readonly Dictionary<string, NodeState> _byName;
    private readonly Dictionary<string, ulong> _used;
    private readonly Dictionary<string, GroupPlacement> _groups;
    private readonly int[] _stranded;

    public SimulatedCluster(ClusterInput input, ShapeFactsCache facts)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(facts);
        var count = input.Nodes.Count;
        _nodes = new NodeState[count];
        _facts = new ShapeFacts[count];
        _byName = new Dictionary<string, NodeState>(count, StringComparer.Ordinal);
        _used = new Dictionary<string, ulong>(count, StringComparer.Ordinal);
        _groups = new Dictionary<string, GroupPlacement>(StringComparer.Ordinal);
        _stranded = new int[ShapeFacts.FragmentSizes.Count];
        var index = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var node = input.Nodes[i];
            _nodes[i] = new NodeState(node.Info, 0);
            _facts[i] = facts.For(node.Shape);
            _byName[node.Name] = _nodes[i];
            index[node.Name] = i;
            TotalGpus += node.Shape.GpuCount;
            for (var s = 0; s < _stranded.Length; s++)
            {
                _stranded[s] += _facts[i].Stranded(s, node.Shape.AllGpus);
            }
        }

        Snapshot = new ClusterSnapshot(1, DateTimeOffset.UnixEpoch, true, _byName, new(StringComparer.Ordinal), _groups, _used);
        foreach (var pod in input.Pods)
        {
            // Two snapshot pods may claim the same GPU (a broken cluster); the first one wins, as held GPUs cannot be held twice.
            var i = index[pod.Node];
            var gpus = pod.Gpus & _nodes[i].FreeGpus;
            if (gpus != 0)
            {
                Allocate(i, gpus, pod.PlacementGroup);
            }
        }

        BackgroundGpus = UsedGpus;
    }

    /// <summary>The live snapshot the SchedExt policy evaluates against.</summary>
    public ClusterSnapshot Snapshot { get; }

    public int Count => _nodes.Length;

    public int TotalGpus { get; }

    public int UsedGpus { get; private set; }

    /// <summary>GPUs held by snapshot pods from the start to the end.</summary>
    public int BackgroundGpus { get; }

    public NodeState Node(int index) => _nodes[index];

    public ShapeFacts Facts(int index) => _facts[index];

    /// <summary>Free GPUs, summed over nodes that could host an NVLink job of <c>FragmentSizes[sizeIndex]</c>, that no such job can use.</summary>
    public int Stranded(int sizeIndex) => _stranded[sizeIndex];

    public void Allocate(int index, ulong gpus, string? group)
    {
        var node = _nodes[index];
        if ((gpus & ~node.FreeGpus) != 0)
        {
            // A GPU given twice would make every metric after it meaningless: fail loudly.
            throw new InvalidOperationException($"GPUs {AssignedGpus.Format(gpus & ~node.FreeGpus)} on {node.Name} are not free");
        }

        Replace(index, node.UsedGpus | gpus);
        UsedGpus += BitOperations.PopCount(gpus);
        CountGroup(group, node.Info, +1);
    }

    public void Release(int index, ulong gpus, string? group)
    {
        var node = _nodes[index];
        Replace(index, node.UsedGpus & ~gpus);
        UsedGpus -= BitOperations.PopCount(gpus);
        CountGroup(group, node.Info, -1);
    }

    private void Replace(int index, ulong used)
    {
        var old = _nodes[index];
        var facts = _facts[index];
        var next = new NodeState(old.Info, used);
        for (var s = 0; s < _stranded.Length; s++)
        {
            _stranded[s] += facts.Stranded(s, next.FreeGpus) - facts.Stranded(s, old.FreeGpus);
        }

        _nodes[index] = next;
        _byName[old.Name] = next;
        _used[old.Name] = used;
    }

    private void CountGroup(string? group, NodeInfo host, int delta)
    {
        if (group is null)
        {
            return;
        }

        if (!_groups.TryGetValue(group, out var placement))
        {
            _groups[group] = placement = new GroupPlacement();
        }

        placement.Placed += delta;
        if (host.Rack is not null)
        {
            placement.ByRack[host.Rack] = placement.ByRack.GetValueOrDefault(host.Rack) + delta;
        }

        if (host.Block is not null)
        {
            placement.ByBlock[host.Block] = placement.ByBlock.GetValueOrDefault(host.Block) + delta;
        }
    }
}

/// <summary>One <see cref="ShapeFacts"/> per shape of a catalog, shared by every policy of a run.</summary>
internal sealed class ShapeFactsCache
{
    private readonly Dictionary<int, ShapeFacts> _byId = [];

    public ShapeFacts For(Topology.Shapes.NodeShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (!_byId.TryGetValue(shape.Id, out var facts))
        {
            _byId[shape.Id] = facts = new ShapeFacts(shape);
        }

        return facts;
    }
}
