using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

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
    private readonly NodeNameIndex? _index;
    private readonly NodeState[] _dense;

    // Per position of the name index, the fields the filter loop reads side by side, so a candidate costs one array
    // read, not a chain of dependent loads through NodeState and NodeInfo.
    private readonly Facts[] _facts;

    public static ClusterSnapshot Empty { get; } = new(0, DateTimeOffset.MinValue, false, new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal), NodeNameIndex.Empty, []);

    /// <summary>
    /// A snapshot over dictionaries its owner may keep updating (the simulator's live cluster): no name index, so
    /// UTF-8 lookups go through <see cref="FindNode(ReadOnlySpan{char})"/>.
    /// </summary>
    internal ClusterSnapshot(long version, DateTimeOffset builtAt, bool synced, Dictionary<string, NodeState> nodes, Dictionary<string, PodAllocation> allocations, Dictionary<string, GroupPlacement> groups, Dictionary<string, ulong> usedByNode)
        : this(version, builtAt, synced, nodes, allocations, groups, usedByNode, null, [])
    {
    }

    /// <summary>An immutable snapshot whose <paramref name="dense"/>[i] is the node named <paramref name="index"/>.NameAt(i).</summary>
    internal ClusterSnapshot(long version, DateTimeOffset builtAt, bool synced, Dictionary<string, NodeState> nodes, Dictionary<string, PodAllocation> allocations, Dictionary<string, GroupPlacement> groups, Dictionary<string, ulong> usedByNode, NodeNameIndex? index, NodeState[] dense)
    {
        if (index is not null && index.Count != dense.Length)
        {
            throw new ArgumentException($"name index has {index.Count} names for {dense.Length} nodes", nameof(dense));
        }

        _index = index;
        _dense = dense;
        _facts = new Facts[dense.Length];
        for (var i = 0; i < dense.Length; i++)
        {
            _facts[i] = new Facts(dense[i].Shape, dense[i].FreeGpus, dense[i].Info.Machine, dense[i].HeldUnrecorded);
        }

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

    /// <summary>
    /// The position of the node named by the UTF-8 <paramref name="utf8Name"/> (filter's and prioritize's hot path: the
    /// bytes as they arrived), for <see cref="NodeAt"/> and <see cref="FactsAt"/>; -1 when unknown or when this snapshot has no name index (use <see cref="FindNode(ReadOnlySpan{byte})"/>).
    /// </summary>
    public int IndexOf(ReadOnlySpan<byte> utf8Name) => _index is null ? -1 : _index.IndexOf(utf8Name);

    /// <summary>
    /// Resolves the positions of many names at once, their cache misses overlapped (see
    /// <see cref="NodeNameIndex.ResolveAll"/>); needs <see cref="HasNameIndex"/>.
    /// </summary>
    public void ResolveAll<TNames>(TNames names, Span<int> positions, Span<int> hashes)
        where TNames : struct, INameList, allows ref struct =>
        (_index ?? throw new InvalidOperationException("this snapshot has no name index")).ResolveAll(names, positions, hashes);

    /// <summary>A hint to bring the node's facts at <paramref name="position"/> into the cache before they are read.</summary>
    public void PrefetchFacts(int position) => NodeNameIndex.Prefetch(ref _facts[position]);

    /// <summary>True when <see cref="IndexOf"/> can find nodes (every snapshot the cluster state publishes).</summary>
    public bool HasNameIndex => _index is not null;

    public NodeState NodeAt(int position) => _dense[position];

    /// <summary>Shape, free GPUs and machine kind of the node at <paramref name="position"/>, in one read.</summary>
    public ref readonly Facts FactsAt(int position) => ref _facts[position];

    /// <summary>Looks a node up by its UTF-8 name.</summary>
    public NodeState? FindNode(ReadOnlySpan<byte> utf8Name)
    {
        if (_index is not null)
        {
            var position = _index.IndexOf(utf8Name);
            return position < 0 ? null : _dense[position];
        }

        Span<char> chars = stackalloc char[256];
        var buffer = utf8Name.Length <= chars.Length ? chars : new char[utf8Name.Length];
        var n = System.Text.Encoding.UTF8.GetChars(utf8Name, buffer);
        return FindNode(buffer[..n]);
    }

    /// <summary>The name index this snapshot was built with, for the next build to reuse while the node names stay the same.</summary>
    internal NodeNameIndex? NameIndex => _index;

    /// <summary>GPUs held by pods on any node name, tracked or not (the full-Nodes protocol mode sends nodes it does not know).</summary>
    public ulong UsedOn(string node) => _usedByNode.GetValueOrDefault(node);

    /// <summary>How many pods of <paramref name="group"/> are placed in total, in <paramref name="rack"/> and in <paramref name="block"/>.</summary>
    public (int Placed, int SameRack, int SameBlock) GroupLocality(string? group, string? rack, string? block) =>
        GroupPlacement.Locality(Group(group), rack, block);

    /// <summary>Where <paramref name="group"/>'s pods are, or null when none is placed: resolve once per request, not per node.</summary>
    public GroupPlacement? Group(string? group) => group is not null && _groups.TryGetValue(group, out var placement) ? placement : null;

    /// <summary>What placement (and filter's reason for a failing node) reads of a node, kept per position of the name index.</summary>
    internal readonly record struct Facts(NodeShape Shape, ulong Free, MachineKind Machine, bool HeldUnrecorded);
}

/// <summary>Where the pods of one placement group are: counts in total, per rack and per block.</summary>
internal sealed class GroupPlacement
{
    public int Placed { get; set; }

    public Dictionary<string, int> ByRack { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> ByBlock { get; } = new(StringComparer.Ordinal);

    /// <summary>Pods of the group in total, in <paramref name="rack"/> and in <paramref name="block"/>; zeros for no group.</summary>
    public static (int Placed, int SameRack, int SameBlock) Locality(GroupPlacement? placement, string? rack, string? block)
    {
        if (placement is null)
        {
            return (0, 0, 0);
        }

        var sameRack = rack is not null && placement.ByRack.TryGetValue(rack, out var r) ? r : 0;
        var sameBlock = block is not null && placement.ByBlock.TryGetValue(block, out var b) ? b : 0;
        return (placement.Placed, sameRack, sameBlock);
    }
}
