using System.Globalization;
using Microsoft.Extensions.Time.Testing;
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

    [Fact]
    public async Task Bind_BindingStoredAsTheBindsDeadlinePasses_EventHasItsOwnDeadline()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        var pod = ApiBackedExtender.PendingGpuPod("ml", "train", 2);
        await using var dgx = await DgxReplica.StartAsync(pod, time);
        dgx.Api.HangNextAfterApplying("POST pods/binding");

        // The Binding is stored but not answered; the bind's 30 s deadline then passes and cancels the request. The
        // read-back finds the pod bound with this assignment: a completed bind, whose Event must not inherit the
        // spent deadline (it would never be sent).
        var bind = ApiBackedExtender.PostBindAsync(dgx.Client, pod, "dgx");
        for (var i = 0; i < 1200 && dgx.Api.GetPod("ml", "train")!.Spec.NodeName is null; i++)
        {
            await Task.Delay(25);
        }

        Assert.Equal("dgx", dgx.Api.GetPod("ml", "train")!.Spec.NodeName);
        time.Advance(TimeSpan.FromSeconds(31));
        var (status, body) = await bind;

        Assert.Equal(200, status);
        Assert.Equal("""{"Error":""}""", body);
        Assert.Equal(1, dgx.Api.Requests("POST events"));
        Assert.Equal(2, dgx.Api.Leases().Count);
    }
}
