namespace SchedExt.Topology.Requests;

/// <summary>What a pod asks of a node's GPUs: how many, how well joined, how near a NIC, on what kind of machine and product.</summary>
/// <param name="Count">GPUs wanted, 1..64.</param>
/// <param name="Interconnect">The weakest link allowed between any two GPUs of the set.</param>
/// <param name="Nic">Whether each GPU needs a NIC at PIX/PXB distance.</param>
/// <param name="Machine">Bare metal or VM, required or preferred.</param>
/// <param name="ProductGlob">Glob (<c>*</c>, <c>?</c>) on the GPU product name, case-insensitive; null for any.</param>
/// <param name="MinMemoryMiB">Minimum memory per GPU; 0 for any.</param>
public sealed record GpuRequest(
    int Count,
    Interconnect Interconnect = Interconnect.Any,
    NicNeed Nic = NicNeed.None,
    MachinePolicy Machine = MachinePolicy.Any,
    string? ProductGlob = null,
    int MinMemoryMiB = 0)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the request can never be valid anywhere.</summary>
    public void Validate()
    {
        if (Count is < 1 or > Model.NodeTopology.MaxGpus)
        {
            throw new ArgumentException($"GPU count {Count} is out of range 1..{Model.NodeTopology.MaxGpus}", nameof(Count));
        }

        if (MinMemoryMiB < 0)
        {
            throw new ArgumentException($"minimum memory {MinMemoryMiB} MiB is negative", nameof(MinMemoryMiB));
        }
    }
}
