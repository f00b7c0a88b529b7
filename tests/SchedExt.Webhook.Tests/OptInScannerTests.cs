using System.Text;
using SchedExt.Webhook.Admission;

namespace SchedExt.Webhook.Tests;

public sealed class OptInScannerTests
{
    [Theory]
    [InlineData("profile annotation", """{"metadata":{"annotations":{"schedext.io/profile":"x"}}}""", true)]
    [InlineData("gpus annotation after others", """{"kind":"Pod","metadata":{"name":"a","labels":{"schedext.io/gpus":"1"},"annotations":{"a":"b","schedext.io/gpus":"2"}},"spec":{}}""", true)]
    [InlineData("escaped slash", """{"metadata":{"annotations":{"schedext.io\/gpus":"2"}}}""", true)]
    [InlineData("only a label", """{"metadata":{"labels":{"schedext.io/gpus":"1"}}}""", false)]
    [InlineData("other schedext annotation", """{"metadata":{"annotations":{"schedext.io/rdma":"required"}}}""", false)]
    [InlineData("no annotations", """{"metadata":{"name":"a"},"spec":{"containers":[]}}""", false)]
    [InlineData("annotations null", """{"metadata":{"annotations":null}}""", false)]
    [InlineData("no metadata", """{"spec":{}}""", false)]
    [InlineData("annotation in spec is not metadata", """{"spec":{"annotations":{"schedext.io/gpus":"1"}}}""", false)]
    public void IsOptedIn_Pod_Answers(string name, string pod, bool expected)
    {
        Assert.True(OptInScanner.IsOptedIn(Encoding.UTF8.GetBytes(pod)) == expected, name);
    }
}
