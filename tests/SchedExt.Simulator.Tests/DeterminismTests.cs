using SchedExt.Simulator.Inputs;
using SchedExt.Simulator.Results;

namespace SchedExt.Simulator.Tests;

public class DeterminismTests
{
    private static (string Summary, string Timeline, string Placements) RunAll(ulong seed)
    {
        var settings = new SimulationSettings { ClusterSpec = "6x hgx-h200,6x dgx1-v100,4x pcie8-two-socket:vm", SyntheticJobs = 3000, Seed = seed };
        var cluster = SimulationRunner.LoadCluster(settings);
        var jobs = SimulationRunner.LoadJobs(settings, cluster);
        var results = SimulationRunner.Run(settings, cluster, jobs);
        using var placements = new StringWriter();
        CsvReports.WritePlacements(results, jobs, placements);
        return (CsvReports.Summary(results), CsvReports.Timeline(results), placements.ToString());
    }

    [Fact]
    public void Run_SameInputsAndSeed_GivesByteIdenticalCsv()
    {
        var first = RunAll(seed: 7);
        var second = RunAll(seed: 7);

        Assert.Equal(first.Summary, second.Summary);
        Assert.Equal(first.Timeline, second.Timeline);
        Assert.Equal(first.Placements, second.Placements);
    }

    [Fact]
    public void Run_OtherSeed_GivesOtherResults()
    {
        Assert.NotEqual(RunAll(seed: 7).Placements, RunAll(seed: 8).Placements);
    }

    [Fact]
    public void SyntheticTrace_SameSeed_IsIdenticalAndRoundTripsThroughCsv()
    {
        var jobs = SyntheticTrace.Generate(500, seed: 3, totalGpus: 128);
        var csv = TraceWriter.ToCsv(jobs);

        Assert.Equal(csv, TraceWriter.ToCsv(SyntheticTrace.Generate(500, seed: 3, totalGpus: 128)));
        Assert.Equal(jobs, TraceReader.ParseCsv(csv, "trace.csv"));
    }
}
