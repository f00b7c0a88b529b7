using SchedExt.Topology.Requests;

namespace SchedExt.Simulator.Inputs;

/// <summary>One job of a workload trace: when it arrives, how long it runs once placed, and what it asks of a node's GPUs.</summary>
/// <param name="Id">Position in arrival order (0-based; equal arrivals keep their trace order): the FIFO order.</param>
/// <param name="Arrival">Arrival time in seconds from the start of the trace.</param>
/// <param name="Duration">Run time in seconds once placed.</param>
/// <param name="Request">GPU count, weakest link, NIC need and machine kind, in the vocabulary of the pod annotations.</param>
/// <param name="Group">The job's placement group, or null.</param>
internal sealed record SimJob(int Id, double Arrival, double Duration, GpuRequest Request, string? Group);
