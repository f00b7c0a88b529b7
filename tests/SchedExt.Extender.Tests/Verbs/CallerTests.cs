using System.Net;
using System.Text;

namespace SchedExt.Extender.Tests.Verbs;

/// <summary>Who may call the verbs: bind acts with the extender's cluster-wide rights, so only kube-scheduler beside it.</summary>
public sealed class CallerTests
{
    private const string BindBody = """{"PodName":"p","PodNamespace":"n","PodUID":"u","Node":"dgx-free"}""";

    [Theory]
    [InlineData("10.1.2.3", null, 403)]
    [InlineData("127.0.0.1", null, 200)]
    [InlineData("::1", null, 200)]
    [InlineData("10.1.2.3", "false", 200)]
    public async Task Bind_FromCaller_ForbiddenUnlessLoopbackOrAllowed(string caller, string? loopbackOnly, int expected)
    {
        var settings = loopbackOnly is null ? null : new Dictionary<string, string?> { ["SchedExt:Extender:VerbsFromLoopbackOnly"] = loopbackOnly };
        using var factory = new ExtenderFactory(GoldenCluster.Objects(), settings);
        await factory.WaitSyncedAsync();

        var context = await factory.Server.SendAsync(c =>
        {
            c.Request.Method = "POST";
            c.Request.Path = "/bind";
            c.Request.ContentType = "application/json";
            c.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(BindBody));
            c.Connection.RemoteIpAddress = IPAddress.Parse(caller);
        });

        // 200 carries bind's own answer (here an Error: the pod was never seen); 403 is refused before reading the body.
        Assert.Equal(expected, context.Response.StatusCode);
        if (expected == 403)
        {
            var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
            Assert.Contains("VerbsFromLoopbackOnly", text, StringComparison.Ordinal);
        }
    }
}
