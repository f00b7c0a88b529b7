namespace SchedExt.Topology.Search;

/// <summary>Why no GPU set on a node can serve a request.</summary>
public enum Infeasibility : byte
{
    None = 0,

    /// <summary>The node has fewer GPUs than requested, even when empty.</summary>
    TooFewGpus,

    /// <summary>Not enough GPUs are free now.</summary>
    NotEnoughFree,

    /// <summary>Not enough free GPUs match the product glob / minimum memory.</summary>
    NoMatchingProduct,

    /// <summary>Not enough free GPUs have an RDMA NIC at PIX/PXB distance.</summary>
    NotEnoughNearNic,

    /// <summary>Enough free GPUs, but no subset of the requested size is joined at the requested interconnect.</summary>
    LinkTooWeak,

    /// <summary>The pod requires a machine kind this node is not.</summary>
    MachineKindMismatch,

    /// <summary>The node has no topology description, and the request needs one.</summary>
    NoTopology,

    /// <summary>
    /// The request sets a minimum GPU memory and enough GPUs would match but for their memory size being unknown (no
    /// <c>memMiB</c> in the annotation and no GPU Feature Discovery memory label).
    /// </summary>
    GpuMemoryUnknown,
}
