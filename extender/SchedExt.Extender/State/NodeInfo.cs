using SchedExt.Topology.Model;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.State;

/// <summary>What the extender knows of one node: its hardware (topology and shared shape), machine kind and location.</summary>
/// <param name="Name">The Node's name.</param>
/// <param name="Topology">The node's own topology (its UUIDs and NIC names); <see cref="NodeTopology.Unknown"/> when not described.</param>
/// <param name="Shape">The shared shape of <paramref name="Topology"/>.</param>
/// <param name="Machine">Bare metal, VM or unknown (explicit label, else the configured rules).</param>
/// <param name="Rack">Value of the configured rack label, if any.</param>
/// <param name="Block">Value of the configured block label, if any.</param>
/// <param name="TopologyProblem">Why the topology annotation was not used (malformed, GPU count mismatch), or null.</param>
internal sealed record NodeInfo(string Name, NodeTopology Topology, NodeShape Shape, MachineKind Machine, string? Rack, string? Block, string? TopologyProblem);
