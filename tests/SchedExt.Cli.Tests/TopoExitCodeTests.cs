using SchedExt.Testing;

namespace SchedExt.Cli.Tests;

/// <summary>Every documented failure of `schedext topo` gives its exit code and one clear line on standard error.</summary>
public sealed class TopoExitCodeTests
{
    private static readonly string HgxH200 = TestData.PathOf("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt");

    public static TheoryData<string, string[], string, int, string> Cases() => new()
    {
        // case, arguments, stdin, exit code, a fragment of the one error line
        { "no command", [], "", ExitCodes.Usage, "Required command was not provided" },
        { "unknown option", ["topo", "--bogus"], "", ExitCodes.Usage, "--bogus" },
        { "apply without node", ["topo", "-f", HgxH200, "--apply"], "", ExitCodes.Usage, "--apply needs --node NAME" },
        { "node without apply", ["topo", "-f", HgxH200, "--node", "n1"], "", ExitCodes.Usage, "--node is only used with --apply" },
        { "interval without apply", ["topo", "-f", HgxH200, "--interval", "1m"], "", ExitCodes.Usage, "--interval is only used with --apply" },
        { "interval not a duration", ["topo", "-f", HgxH200, "--apply", "--node", "n1", "--interval", "soon"], "", ExitCodes.Usage, "not a duration" },
        { "interval too short", ["topo", "-f", HgxH200, "--apply", "--node", "n1", "--interval", "1s"], "", ExitCodes.Usage, "shorter than 10s" },
        { "interval too long", ["topo", "-f", HgxH200, "--apply", "--node", "n1", "--interval", "1200h"], "", ExitCodes.Usage, "longer than 168h" },
        { "interval beyond any duration", ["topo", "-f", HgxH200, "--apply", "--node", "n1", "--interval", "2147483647h"], "", ExitCodes.Usage, "not a duration" },
        { "interval over standard input", ["topo", "-f", "-", "--apply", "--node", "n1", "--interval", "1m"], "", ExitCodes.Usage, "standard input can be read only once" },
        { "inventory without file", ["topo", "--gpu-inventory", "x.csv"], "", ExitCodes.Usage, "--gpu-inventory is only used with --file" },
        { "both from stdin", ["topo", "-f", "-", "--gpu-inventory", "-"], "", ExitCodes.Usage, "cannot both read standard input" },
        { "missing file", ["topo", "-f", "/nonexistent/topo.txt"], "", ExitCodes.InputUnavailable, "cannot read /nonexistent/topo.txt" },
        { "nvidia-smi not installed", ["topo", "--nvidia-smi", "/nonexistent/nvidia-smi"], "", ExitCodes.InputUnavailable, "cannot run /nonexistent/nvidia-smi" },
        { "empty stdin", ["topo", "-f", "-"], "", ExitCodes.InputInvalid, "from standard input: line 1:" },
        { "not nvidia-smi output", ["topo", "-f", "-"], "hello\nworld\n", ExitCodes.InputInvalid, "nvidia-smi topo -m output from standard input: line 1:" },
        { "inventory of other GPUs", ["topo", "-f", HgxH200, "--gpu-inventory", TestData.PathOf("cli-topo", "two-gpus_query-gpu.csv")], "", ExitCodes.InputInvalid, "GPU inventory in" },
        { "bad inventory line", ["topo", "-f", HgxH200, "--gpu-inventory", "-"], "zero, GPU-x, H200\n", ExitCodes.InputInvalid, "GPU inventory from standard input: line 1:" },
        { "no credentials", ["topo", "-f", HgxH200, "--apply", "--node", "n1", "--kubeconfig", "/nonexistent/kubeconfig"], "", ExitCodes.ClusterError, "no cluster credentials" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Topo_BadInvocation_ExitsWithDocumentedCodeAndOneClearError(string name, string[] args, string stdin, int expected, string message)
    {
        var run = await CliRun.RunAsync(args, stdin);

        Assert.True(expected == run.ExitCode, $"{name}: {run}");
        Assert.Equal(string.Empty, run.Out);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.StartsWith("schedext", run.Error, StringComparison.Ordinal);
    }
}
