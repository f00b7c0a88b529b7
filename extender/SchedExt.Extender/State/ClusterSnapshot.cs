namespace SchedExt.Extender.State;

/// <summary>
/// An immutable view of the cluster at one moment: nodes with their used GPUs, every pod's allocation, and where each
/// placement group runs. Built by <see cref="ClusterState"/>, swapped atomically, read without locks.
/// </summary>
internal sealed class ClusterSnapshot
{
    private readonly Dictionary<string, NodeState> _nodes;
    private readonly Dictionary<string, NodeState>.AlternateLookup<ReadOnlySpan<char>> _nodesBySpan;
    private readonly Dictionary<string, PodAllocation> _allocations;
    private readonly Dictionary<string, GroupPlacement> _groups;
    private readonly Dictionary<string, ulong> _usedByNode;

    public static ClusterSnapshot Empty { get; } = new(0, DateTimeOffset.MinValue, false, new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal));

    internal ClusterSnapshot(long version, DateTimeOffset builtAt, bool synced, Dictionary<string, NodeState> nodes, Dictionary<string, PodAllocation> allocations, Dictionary<string, GroupPlacement> groups, Dictionary<string, ulong> usedByNode)
    {
        _usedByNode = usedByNode;
        Version = version;
        BuiltAt = builtAt;
        Synced = synced;
        _nodes = nodes;
        _nodesBySpan = nodes.GetAlternateLookup<ReadOnlySpan<char>>();
        _allocations = allocations;
        _groups = groups;
    }

    /// <summary>Increases with every published change.</summary>
    public long Version { get; }

    public DateTimeOffset BuiltAt { get; }

    /// <summary>True once the first full list of nodes and pods has been applied.</summary>
    public bool Synced { get; }

    public IReadOnlyDictionary<string, NodeState> Nodes => _nodes;

    /// <summary>Allocations by pod UID.</summary>
    public IReadOnlyDictionary<string, PodAllocation> Allocations => _allocations;

    public NodeState? FindNode(string name) => _nodes.GetValueOrDefault(name);

    /// <summary>Looks a node up by a name still in a buffer, without allocating a string.</summary>
    public NodeState? FindNode(ReadOnlySpan<char> name) => _nodesBySpan.TryGetValue(name, out var node) ? node : null;

    /// <summary>GPUs held by pods on any node name, tracked or not (the full-Nodes protocol mode sends nodes it does not know).</summary>
    public ulong UsedOn(string node) => _usedByNode.GetValueOrDefault(node);

    /// <summary>How many pods of <paramref name="group"/> are placed in total, in <paramref name="rack"/> and in <paramref name="block"/>.</summary>
    public (int Placed, int SameRack, int SameBlock) GroupLocality(string? group, string? rack, string? block)
    {
        if (group is null || !_groups.TryGetValue(group, out var placement))
        {
            return (0, 0, 0);
        }

        var sameRack = rack is not null && placement.ByRack.TryGetValue(rack, out var r) ? r : 0;
        var sameBlock = block is not null && placement.ByBlock.TryGetValue(block, out var b) ? b : 0;
        return (placement.Placed, sameRack, sameBlock);
    }
}

/// <summary>Where the pods of one placement group are: counts in total, per rack and per block.</summary>
internal sealed class GroupPlacement
{
    public int Placed { get; set; }

    public Dictionary<string, int> ByRack { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> ByBlock { get; } = new(StringComparer.Ordinal);
}
