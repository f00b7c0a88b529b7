namespace SchedExt.Topology.Model;

/// <summary>One GPU of a node. <paramref name="NumaNode"/> is -1 when unknown; <paramref name="MemoryMiB"/> is 0 when unknown.</summary>
public sealed record GpuDevice(int Index, string? Uuid = null, string? Product = null, int MemoryMiB = 0, int NumaNode = -1);

/// <summary>One network interface (typically an RDMA-capable HCA such as <c>mlx5_0</c>). <paramref name="NumaNode"/> is -1 when unknown.</summary>
public sealed record NicDevice(string Name, int NumaNode = -1);

/// <summary>One NUMA node and the CPUs it holds, as a Linux CPU list (e.g. <c>0-55,112-167</c>), or null when unknown.</summary>
public sealed record NumaNodeInfo(int Id, string? Cpus = null);
