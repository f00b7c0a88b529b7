using SchedExt.Testing;

namespace SchedExt.Extender.Tests.Binding;

/// <summary>The Event after a completed bind is informative: its request timing out must not turn the bind into an error.</summary>
public sealed class BindEventStallTests
{
    [Fact]
    public async Task Bind_EventRequestTimesOut_BindStillSucceeds()
    {
        var pod = ApiBackedExtender.PendingGpuPod("ml", "train", 2);
        // 5 s: the stalled request must end in the client's timeout, and the others (the first requests of a cold
        // process, on a machine busy with other test assemblies) must not; 1 s was too short for them.
        await using var dgx = await DgxReplica.StartAsync(pod, clientTimeout: TimeSpan.FromSeconds(5));
        dgx.Api.HangNext("POST events");

        using var body = new StringContent(
            $$"""{"PodName":"train","PodNamespace":"ml","PodUID":"{{pod.Metadata.Uid}}","Node":"dgx"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await dgx.Client.PostAsync(new Uri("/bind", UriKind.Relative), body);

        Assert.Equal("""{"Error":""}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, dgx.Api.Requests("POST events"));
        Assert.Equal("dgx", dgx.Api.GetPod("ml", "train")!.Spec.NodeName);
        Assert.Equal(2, dgx.Api.Leases().Count);
    }
}
