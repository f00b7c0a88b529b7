using SchedExt.Topology.Requests;

namespace SchedExt.Topology.Tests.Requests;

public sealed class ProductGlobTests
{
    [Theory]
    [InlineData("*H100*", "NVIDIA H100 80GB HBM3", true)]
    [InlineData("*h100*", "NVIDIA H100 80GB HBM3", true)]
    [InlineData("NVIDIA H100 80GB HBM3*", "NVIDIA-H100-80GB-HBM3", true)]
    [InlineData("NVIDIA-H100-80GB-HBM3", "NVIDIA H100 80GB HBM3", true)]
    [InlineData("*H100 80GB*", "NVIDIA-H100-80GB-HBM3", true)]
    [InlineData("NVIDIA H100", "NVIDIA H100 80GB HBM3", false)]
    [InlineData("*A100*", "NVIDIA H100 80GB HBM3", false)]
    [InlineData("NVIDIA?H100*", "NVIDIA-H100-80GB-HBM3", true)]
    [InlineData("*H100_*", "NVIDIA H100 80GB", false)]
    [InlineData("", "", true)]
    [InlineData("*", "anything", true)]
    public void IsMatch_CaseAndSpaceOrDashInsensitive(string pattern, string product, bool expected)
    {
        // GPU Feature Discovery writes product names with '-' where nvidia-smi has spaces; one glob must find both.
        Assert.Equal(expected, ProductGlob.IsMatch(pattern, product));
    }
}
