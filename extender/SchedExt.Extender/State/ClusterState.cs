using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.State;

/// <summary>
/// The mutable source of truth that cluster sources (API watch, snapshot file, demo) write into. Readers get an
/// immutable <see cref="ClusterSnapshot"/>; it is rebuilt on the first read after a change and published atomically,
/// so a burst of watch events costs one rebuild.
/// </summary>
internal sealed class ClusterState
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, NodeInfo> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PodAllocation> _pods = new(StringComparer.Ordinal);

    // Pods bound by this process where no API server records binds (snapshot file, demo): kept across ReplaceAll.
    private readonly Dictionary<string, PodAllocation> _local = new(StringComparer.Ordinal);
    private volatile ClusterSnapshot _current = ClusterSnapshot.Empty;
    private bool _dirty;
    private bool _namesChanged = true;
    private bool _synced;
    private long _version;
    private long _nodesContactTicks;
    private long _podsContactTicks;

    public ClusterState(ShapeCatalog catalog, TimeProvider time)
    {
        Catalog = catalog;
        _time = time;
    }

    /// <summary>The catalog every node's shape is interned in.</summary>
    public ShapeCatalog Catalog { get; }

    /// <summary>
    /// When the source last heard from its backend about both nodes and pods (event, bookmark or successful list): the
    /// older of the two, so one silent stream makes the whole state stale; null until both have been heard.
    /// </summary>
    public DateTimeOffset? LastContact => LastContactOf(ContactStream.Nodes) is { } nodes && LastContactOf(ContactStream.Pods) is { } pods
        ? (nodes < pods ? nodes : pods)
        : null;

    /// <summary>When the source last heard from its backend about one kind; null before that.</summary>
    public DateTimeOffset? LastContactOf(ContactStream stream)
    {
        var ticks = Interlocked.Read(ref stream == ContactStream.Nodes ? ref _nodesContactTicks : ref _podsContactTicks);
        return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    /// <summary>The latest snapshot, rebuilt first if anything changed since it was published.</summary>
    public ClusterSnapshot Current
    {
        get
        {
            if (!Volatile.Read(ref _dirty))
            {
                return _current;
            }

            lock (_gate)
            {
                if (_dirty)
                {
                    _current = Build();
                    _dirty = false;
                }

                return _current;
            }
        }
    }

    /// <summary>Records that the backend answered about nodes and pods, for readiness (a watch that is silent too long is stale).</summary>
    public void Touch()
    {
        Touch(ContactStream.Nodes);
        Touch(ContactStream.Pods);
    }

    /// <summary>Records that the backend answered about one kind (its list or watch).</summary>
    public void Touch(ContactStream stream) =>
        Interlocked.Exchange(ref stream == ContactStream.Nodes ? ref _nodesContactTicks : ref _podsContactTicks, _time.GetUtcNow().UtcTicks);

    public void UpsertNode(NodeInfo node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_gate)
        {
            _namesChanged |= !_nodes.ContainsKey(node.Name);
            _nodes[node.Name] = node;
            _dirty = true;
        }
    }

    public void RemoveNode(string name)
    {
        lock (_gate)
        {
            var removed = _nodes.Remove(name);
            _dirty |= removed;
            _namesChanged |= removed;
        }
    }

    /// <summary>Adds or replaces a pod's allocation; a pod without GPUs or gone terminal should be removed instead.</summary>
    public void UpsertPod(PodAllocation pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (_gate)
        {
            _pods[pod.Uid] = pod;
            _dirty = true;
        }
    }

    public void RemovePod(string uid)
    {
        lock (_gate)
        {
            _local.Remove(uid);
            _dirty |= _pods.Remove(uid);
        }
    }

    /// <summary>
    /// A pod this process bound with no API server to record the bind (snapshot-file and demo modes). A reload of the
    /// source does not list it, so it is kept across <see cref="ReplaceAll"/> until a replacement lists the pod itself;
    /// forgetting it would offer its GPUs again while it holds them.
    /// </summary>
    public void UpsertLocalPod(PodAllocation pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        lock (_gate)
        {
            _local[pod.Uid] = pod;
            _pods[pod.Uid] = pod;
            _dirty = true;
        }
    }

    /// <summary>Replaces everything with a fresh full list (initial sync, or re-list after 410 Gone) and marks the state synced.</summary>
    /// <remarks>
    /// <paramref name="listedPodUids"/> are all the pods the source listed, holding GPUs or not: a pod bound here
    /// (<see cref="UpsertLocalPod"/>) that the source now lists in any state (e.g. finished) is the source's from then on.
    /// </remarks>
    public void ReplaceAll(IEnumerable<NodeInfo>? nodes, IEnumerable<PodAllocation>? pods, IReadOnlySet<string>? listedPodUids = null)
    {
        lock (_gate)
        {
            if (nodes is not null)
            {
                _nodes.Clear();
                foreach (var node in nodes)
                {
                    _nodes[node.Name] = node;
                }

                _namesChanged = true;
            }

            if (pods is not null)
            {
                _pods.Clear();
                foreach (var pod in pods)
                {
                    _pods[pod.Uid] = pod;
                }

                foreach (var (uid, local) in _local.ToList())
                {
                    if (_pods.ContainsKey(uid) || listedPodUids?.Contains(uid) == true)
                    {
                        _local.Remove(uid);
                    }
                    else
                    {
                        _pods[uid] = local;
                    }
                }
            }

            _synced = true;
            _dirty = true;
        }

        if (nodes is not null)
        {
            Touch(ContactStream.Nodes);
        }

        if (pods is not null)
        {
            Touch(ContactStream.Pods);
        }
    }

    /// <summary>Marks the first full sync done without replacing anything.</summary>
    public void MarkSynced()
    {
        lock (_gate)
        {
            _synced = true;
            _dirty = true;
        }

        Touch();
    }

    private ClusterSnapshot Build()
    {
        var used = new Dictionary<string, ulong>(StringComparer.Ordinal);
        var groups = new Dictionary<string, GroupPlacement>(StringComparer.Ordinal);
        foreach (var pod in _pods.Values)
        {
            // GPUs held without a known assignment could be any of the node's devices: none of them may be handed out.
            used[pod.Node] = used.GetValueOrDefault(pod.Node) | (pod.UnassignedGpus > 0 ? NodeState.AllHeld : pod.Gpus);
            if (pod.PlacementGroup is not null && _nodes.TryGetValue(pod.Node, out var host))
            {
                if (!groups.TryGetValue(pod.PlacementGroup, out var g))
                {
                    groups[pod.PlacementGroup] = g = new GroupPlacement();
                }

                g.Placed++;
                if (host.Rack is not null)
                {
                    g.ByRack[host.Rack] = g.ByRack.GetValueOrDefault(host.Rack) + 1;
                }

                if (host.Block is not null)
                {
                    g.ByBlock[host.Block] = g.ByBlock.GetValueOrDefault(host.Block) + 1;
                }
            }
        }

        // Reuse NodeState objects whose inputs did not change: a pod event then costs one dictionary copy, not N objects.
        // The UTF-8 name index is rebuilt only when a node name came or went.
        var previous = _current;
        var reused = !_namesChanged && previous.NameIndex is { } kept && kept.Count == _nodes.Count;
        var index = reused ? previous.NameIndex! : NodeNameIndex.Build(_nodes.Keys);
        _namesChanged = false;
        var nodes = new Dictionary<string, NodeState>(_nodes.Count, StringComparer.Ordinal);
        var dense = new NodeState[index.Count];
        for (var i = 0; i < dense.Length; i++)
        {
            var name = index.NameAt(i);
            var info = _nodes[name];
            var held = used.GetValueOrDefault(name);
            var mask = held & info.Shape.AllGpus;
            var unrecorded = held == NodeState.AllHeld;
            // With the index kept, position i is the same node in the previous snapshot: no lookup by name.
            var old = reused ? previous.NodeAt(i) : previous.FindNode(name);
            var node = old is not null && ReferenceEquals(old.Info, info) && old.UsedGpus == mask && old.HeldUnrecorded == unrecorded ? old : new NodeState(info, mask, unrecorded);
            nodes[name] = node;
            dense[i] = node;
        }

        return new ClusterSnapshot(++_version, _time.GetUtcNow(), _synced, nodes, new Dictionary<string, PodAllocation>(_pods, StringComparer.Ordinal), groups, used, index, dense);
    }
}

/// <summary>The two kinds a cluster source lists and watches, each with its own last contact.</summary>
internal enum ContactStream
{
    Nodes,
    Pods,
}
