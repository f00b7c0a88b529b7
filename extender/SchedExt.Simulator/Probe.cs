namespace SchedExt.Simulator;

/// <summary>Probe.</summary>
public static class Probe
{
    public static void Draw(string path)
    {
        var plot = new ScottPlot.Plot();
        plot.Add.Scatter(new double[] { 1, 2, 3 }, new double[] { 1, 4, 9 });
        plot.SavePng(path, 400, 300);
    }
}
