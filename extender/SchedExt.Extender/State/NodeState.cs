using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.State;

/// <summary>A node and the GPUs in use on it, at one snapshot.</summary>
internal sealed class NodeState(NodeInfo info, ulong usedGpus, bool heldUnrecorded = false)
{
    /// <summary>The used-GPU mask of a node where a pod holds GPUs that no assignment names: all of them, whatever the node has.</summary>
    public const ulong AllHeld = ulong.MaxValue;

    public NodeInfo Info { get; } = info;

    public string Name => Info.Name;

    public NodeShape Shape => Info.Shape;

    /// <summary>GPUs held by bound pods (from their annotations).</summary>
    public ulong UsedGpus { get; } = usedGpus;

    /// <summary>A pod holds GPUs here that no assignment names: which ones is unknown, so every GPU counts as used.</summary>
    public bool HeldUnrecorded { get; } = heldUnrecorded;

    /// <summary>GPUs not held by any pod.</summary>
    public ulong FreeGpus => Info.Shape.AllGpus & ~UsedGpus;
}
