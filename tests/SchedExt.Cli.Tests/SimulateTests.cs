using SchedExt.Testing;

namespace SchedExt.Cli.Tests;

/// <summary><c>schedext simulate</c> end to end in process: files written, and every failure with its exit code and located message.</summary>
public sealed class SimulateTests
{
    private static readonly string Examples = Path.GetFullPath(Path.Combine(TestData.Directory, "..", "..", "extender", "SchedExt.Simulator", "examples"));
    private static readonly string Trace = Path.Combine(Examples, "trace.csv");

    [Fact]
    public async Task Simulate_ExampleTrace_PrintsTableAndWritesCsvAndCharts()
    {
        var output = Path.Combine(Path.GetTempPath(), $"schedext-simulate-{Guid.NewGuid():N}");
        try
        {
            var run = await CliRun.RunAsync(["simulate", "--cluster-spec", "2x hgx-h200,2x dgx1-v100", "--trace", Trace, "--out", output, "--no-progress"]);

            Assert.True(run.ExitCode == ExitCodes.Ok, run.ToString());
            Assert.Contains("all-NVLink", run.Out, StringComparison.Ordinal);
            var summary = File.ReadAllLines(Path.Combine(output, "summary.csv"));
            Assert.Equal(["schedext", "first-fit", "random"], summary.Skip(1).Select(l => l.Split(',')[0]));
            foreach (var file in new[] { "timeline.csv", "placements.csv", "utilization.png", "pending.png", "quality.png", "fragmentation.png", "delay.png" })
            {
                Assert.True(new FileInfo(Path.Combine(output, file)).Length > 0, file);
            }
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    public static TheoryData<string, string[], int, string> Cases() => new()
    {
        // case, arguments, exit code, a fragment of the error
        { "no cluster", ["simulate", "--trace", Trace], ExitCodes.Usage, "exactly one of --cluster FILE or --cluster-spec SPEC" },
        { "two clusters", ["simulate", "--cluster", "a.yaml", "--cluster-spec", "1x hgx-h200", "--trace", Trace], ExitCodes.Usage, "exactly one of --cluster" },
        { "no trace", ["simulate", "--cluster-spec", "1x hgx-h200"], ExitCodes.Usage, "exactly one of --trace FILE or --synthetic-jobs N" },
        { "unknown policy", ["simulate", "--cluster-spec", "1x hgx-h200", "--trace", Trace, "--policies", "schedext,best"], ExitCodes.Usage, "unknown policy 'best'" },
        { "bad spec", ["simulate", "--cluster-spec", "3x dgx9", "--synthetic-jobs", "10"], ExitCodes.InputInvalid, "unknown shape 'dgx9'" },
        { "missing trace", ["simulate", "--cluster-spec", "1x hgx-h200", "--trace", "/nonexistent/trace.csv"], ExitCodes.InputUnavailable, "/nonexistent/trace.csv" },
        { "missing snapshot", ["simulate", "--cluster", "/nonexistent/cluster.yaml", "--synthetic-jobs", "10"], ExitCodes.InputUnavailable, "/nonexistent/cluster.yaml" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Simulate_BadInvocation_ExitsWithDocumentedCode(string name, string[] args, int expected, string message)
    {
        var run = await CliRun.RunAsync(args);

        Assert.True(expected == run.ExitCode, $"{name}: {run}");
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_MalformedTraceLine_ExitsInputInvalidNamingTheLine()
    {
        var trace = Path.Combine(Path.GetTempPath(), $"schedext-trace-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(trace, "arrival,duration,gpus\n0,10,1\n5,10,lots\n");
        try
        {
            var run = await CliRun.RunAsync(["simulate", "--cluster-spec", "1x hgx-h200", "--trace", trace, "--no-progress"]);

            Assert.True(run.ExitCode == ExitCodes.InputInvalid, run.ToString());
            Assert.Contains($"{trace}:3: gpus 'lots'", run.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(trace);
        }
    }
}
