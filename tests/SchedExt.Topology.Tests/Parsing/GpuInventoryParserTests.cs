using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;
using SchedExt.Topology.Shapes;

namespace SchedExt.Topology.Tests.Parsing;

public sealed class GpuInventoryParserTests
{
    private const string TwoH200 = """
        0, GPU-5b2a6c8e-0f6a-4c39-9d55-3f1e2d0c7a11, NVIDIA H200, 143771
        1, GPU-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6, NVIDIA H200, 143771
        """;

    [Fact]
    public void Parse_NoHeaderNoUnits_ReadsEveryField()
    {
        var entries = GpuInventoryParser.Parse(TwoH200);

        Assert.Equal(
            [
                new GpuInventoryEntry(0, "GPU-5b2a6c8e-0f6a-4c39-9d55-3f1e2d0c7a11", "NVIDIA H200", 143771),
                new GpuInventoryEntry(1, "GPU-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", "NVIDIA H200", 143771),
            ],
            entries);
    }

    [Fact]
    public void Parse_HeaderUnitsCrlfAndUnordered_Tolerated()
    {
        var entries = GpuInventoryParser.Parse("index, uuid, name, memory.total [MiB]\r\n1, GPU-b, Tesla V100-SXM2-32GB, 32768 MiB\r\n\r\n0, GPU-a, Tesla V100-SXM2-32GB, 32768 MiB\r\n");

        Assert.Equal([0, 1], entries.Select(e => e.Index));
        Assert.Equal(["GPU-a", "GPU-b"], entries.Select(e => e.Uuid));
        Assert.All(entries, e => Assert.Equal(32768, e.MemoryMiB));
    }

    [Fact]
    public void Parse_NotAvailableAndCommaInName_Handled()
    {
        var entry = Assert.Single(GpuInventoryParser.Parse("0, [N/A], Vendor X, Model Y, [N/A]"));

        Assert.Equal(new GpuInventoryEntry(0, null, "Vendor X, Model Y", 0), entry);
    }

    [Theory]
    [InlineData("too few fields", "0, GPU-a, 80\n", 1, "3 fields; expected index, uuid, name, memory.total")]
    [InlineData("index not a number", "0, GPU-a, A, 1\nx, GPU-b, A, 1", 2, "GPU index 'x' is not a number")]
    [InlineData("index twice", "0, GPU-a, A, 1\n\n0, GPU-b, A, 1", 3, "GPU 0 is listed twice")]
    [InlineData("memory not a number", "0, GPU-a, A, lots", 1, "memory.total 'lots' is not a number of MiB")]
    public void Parse_Malformed_ThrowsWithLine(string name, string text, int line, string reason)
    {
        _ = name;
        var e = Assert.Throws<NvidiaSmiParseException>(() => GpuInventoryParser.Parse(text));

        Assert.Equal((line, reason), (e.Line, e.Reason));
    }

    [Fact]
    public void Enrich_MatchingInventory_SetsGpuFieldsAndKeepsTheRest()
    {
        var topology = ReferenceTopologies.Synthetic(2, nvLinkGroupSize: 2, sockets: 1, gpusPerNic: 1, product: "old", memoryMiB: 1);

        var enriched = GpuInventoryParser.Enrich(topology, GpuInventoryParser.Parse(TwoH200));

        Assert.Equal(["GPU-5b2a6c8e-0f6a-4c39-9d55-3f1e2d0c7a11", "GPU-0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"], enriched.Gpus.Select(g => g.Uuid));
        Assert.All(enriched.Gpus, g => Assert.Equal(("NVIDIA H200", 143771, 0), (g.Product, g.MemoryMiB, g.NumaNode)));
        var restored = GpuInventoryParser.Enrich(enriched, [.. topology.Gpus.Select(g => new GpuInventoryEntry(g.Index, g.Uuid, g.Product, g.MemoryMiB))]);
        Assert.True(restored.StructurallyEquals(topology));
    }

    [Theory]
    [InlineData("GPU missing", "0, GPU-a, A, 1", "gpus[1]", "missing from the inventory")]
    [InlineData("extra GPU", "0, GPU-a, A, 1\n1, GPU-b, A, 1\n2, GPU-c, A, 1", "gpus[2]", "the inventory lists GPU 2 but the topology has 2 GPUs")]
    public void Enrich_InventoryOfOtherGpus_Throws(string name, string inventory, string field, string reason)
    {
        _ = name;
        var e = Assert.Throws<TopologyFormatException>(() => GpuInventoryParser.Enrich(ReferenceTopologies.Rtx5090Workstation, GpuInventoryParser.Parse(inventory)));

        Assert.Equal((field, reason), (e.Field, e.Reason));
    }

    [Fact]
    public void Enrich_SameIndexTwice_Throws()
    {
        GpuInventoryEntry[] twice = [new(0, null, null, 0), new(0, null, null, 0)];

        var e = Assert.Throws<TopologyFormatException>(() => GpuInventoryParser.Enrich(ReferenceTopologies.Rtx5090Workstation, twice));

        Assert.Equal("gpus[0]", e.Field);
    }
}
