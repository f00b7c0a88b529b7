using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Search;

/// <summary>What the engine needs to know about a node beyond its hardware: machine kind and where the pod's placement group already runs.</summary>
/// <param name="Machine">Bare metal, VM or unknown.</param>
/// <param name="GroupPlaced">Pods of the pod's placement group already placed (0 without a group).</param>
/// <param name="GroupSameRack">Of those, on nodes in this node's rack.</param>
/// <param name="GroupSameBlock">Of those, on nodes in this node's block (includes the rack).</param>
public readonly record struct NodeContext(MachineKind Machine, int GroupPlaced = 0, int GroupSameRack = 0, int GroupSameBlock = 0);
