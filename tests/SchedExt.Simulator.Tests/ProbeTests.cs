namespace SchedExt.Simulator.Tests;

public class ProbeTests
{
    [Fact]
    public void Draw_Png_Writes()
    {
        var path = Path.Combine(Path.GetTempPath(), "probe-sim.png");
        Probe.Draw(path);
        Assert.True(new FileInfo(path).Length > 100);
    }
}
