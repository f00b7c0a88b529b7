using SchedExt.Topology.Model;

namespace SchedExt.Topology.Tests;

public sealed class LinkTests
{
    [Theory]
    [InlineData("SYS", "SYS")]
    [InlineData("SOC", "SYS")]
    [InlineData("NODE", "NODE")]
    [InlineData("PHB", "PHB")]
    [InlineData("PXB", "PXB")]
    [InlineData("PIX", "PIX")]
    [InlineData(" X ", "X")]
    [InlineData("NV1", "NV1")]
    [InlineData("NV18", "NV18")]
    public void TryParse_KnownToken_RoundTrips(string token, string expected)
    {
        Assert.True(Link.TryParse(token, out var link));
        Assert.Equal(expected, link.ToString());
    }

    [Theory]
    [InlineData("NV0")]
    [InlineData("NV")]
    [InlineData("NV201")]
    [InlineData("nv4")]
    [InlineData("N/A")]
    [InlineData("")]
    public void TryParse_UnknownToken_Fails(string token) => Assert.False(Link.TryParse(token, out _));

    [Fact]
    public void Code_Ordering_IsQualityOrdering()
    {
        Link[] ordered = [Link.Sys, Link.Node, Link.Phb, Link.Pxb, Link.Pix, Link.NvLink(1), Link.NvLink(2), Link.NvLink(18), Link.Self];
        for (var i = 1; i < ordered.Length; i++)
        {
            Assert.True(ordered[i - 1].Code < ordered[i].Code, $"{ordered[i - 1]} should be weaker than {ordered[i]}");
        }
    }
}
