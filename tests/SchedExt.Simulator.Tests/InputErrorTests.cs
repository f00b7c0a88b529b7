using SchedExt.Simulator.Inputs;

namespace SchedExt.Simulator.Tests;

public class InputErrorTests
{
    [Theory]
    [InlineData("bad gpu count", "arrival,duration,gpus\n0,10,2\n5,10,many\n", "trace.csv:3: gpus 'many'")]
    [InlineData("too many gpus", "arrival,duration,gpus\n0,10,65\n", "trace.csv:2: gpus '65'")]
    [InlineData("negative arrival", "# comment\narrival,duration,gpus\n-1,10,1\n", "trace.csv:3: arrival '-1'")]
    [InlineData("zero duration", "arrival,duration,gpus\n0,0,1\n", "trace.csv:2: duration '0'")]
    [InlineData("bad interconnect", "arrival,duration,gpus,interconnect\n0,1,2,nvswitch\n", "trace.csv:2: interconnect 'nvswitch'")]
    [InlineData("bad rdma", "arrival,duration,gpus,rdma\n\n0,1,2,always\n", "trace.csv:3: rdma 'always'")]
    [InlineData("bad machine", "arrival,duration,gpus,machine\n0,1,2,cloud\n", "trace.csv:2: machine 'cloud'")]
    [InlineData("field count", "arrival,duration,gpus\n0,1\n", "trace.csv:2: 2 fields; the header has 3")]
    [InlineData("unknown column", "arrival,duration,gpus,colour\n", "trace.csv:1: unknown column 'colour'")]
    [InlineData("missing column", "arrival,gpus\n", "trace.csv:1: the header has no 'duration' column")]
    [InlineData("no header", "", "trace.csv:1: no header row")]
    public void ParseCsv_Malformed_NamesTheLine(string name, string text, string expected)
    {
        _ = name;
        var e = Assert.Throws<InvalidDataException>(() => TraceReader.ParseCsv(text, "trace.csv"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad rdma", "jobs:\n  - arrival: 0\n    duration: 10\n    gpus: 1\n  - arrival: 1\n    duration: 10\n    gpus: 2\n    rdma: maybe\n", "trace.yaml:5: rdma 'maybe'")]
    [InlineData("unknown key", "- arrival: 0\n  duration: 10\n  gpu: 1\n", "trace.yaml:3: unknown key 'gpu'")]
    [InlineData("not a mapping", "- 5\n", "trace.yaml:1: a job must be a mapping")]
    [InlineData("yaml syntax", "- arrival: 0\n  duration: [10\n", "trace.yaml:")]
    public void ParseYaml_Malformed_NamesTheLine(string name, string text, string expected)
    {
        _ = name;
        var e = Assert.Throws<InvalidDataException>(() => TraceReader.ParseYaml(text, "trace.yaml"));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseYaml_Valid_ReadsEveryField()
    {
        var jobs = TraceReader.ParseYaml("""
            jobs:
              - {arrival: 30, duration: 600, gpus: 8, interconnect: nvlink, rdma: required, machine: bare-metal, group: llm}
              - {arrival: 0, duration: 60, gpus: 1}
            """, "trace.yaml");

        Assert.Equal(2, jobs.Count);
        Assert.Equal((0, 0.0, 1), (jobs[0].Id, jobs[0].Arrival, jobs[0].Request.Count));
        Assert.Equal(new Topology.Requests.GpuRequest(8, Topology.Requests.Interconnect.NvLink, Topology.Requests.NicNeed.Required, Topology.Requests.MachinePolicy.RequireBareMetal), jobs[1].Request);
        Assert.Equal("llm", jobs[1].Group);
    }

    [Fact]
    public void FromSnapshotFile_MalformedYaml_NamesTheLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"schedext-sim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Node\nmetadata: [\n");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => ClusterInput.FromSnapshotFile(path));
            Assert.Contains("line", e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("unknown shape", "4x hgx-h200, 2x dgx9", "cluster spec item 2 ('2x dgx9'): unknown shape 'dgx9'")]
    [InlineData("no count", "hgx-h200", "cluster spec item 1 ('hgx-h200')")]
    [InlineData("zero count", "0x hgx-h200", "cluster spec item 1 ('0x hgx-h200'): '0' is not a positive node count")]
    [InlineData("bad machine", "1x hgx-h200:cloud", "cluster spec item 1 ('1x hgx-h200:cloud'): machine kind 'cloud'")]
    [InlineData("twice", "1x hgx-h200,2x hgx-h200", "cluster spec item 2 ('2x hgx-h200'): hgx-h200 is listed twice")]
    public void ClusterSpec_Malformed_NamesTheItem(string name, string spec, string expected)
    {
        _ = name;
        var e = Assert.Throws<FormatException>(() => ClusterInput.FromSpec(spec));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterSpec_Valid_NamesRacksAndMachineKinds()
    {
        var cluster = ClusterInput.FromSpec("9x dgx1-v100, 2× pcie8-two-socket:vm");

        Assert.Equal(11, cluster.Nodes.Count);
        Assert.Equal(9 * 8 + 2 * 8, cluster.TotalGpus);
        var ninth = cluster.Nodes.Single(n => n.Name == "dgx1-v100-0009").Info;
        Assert.Equal(("dgx1-v100-rack-002", "dgx1-v100-block-01"), (ninth.Rack, ninth.Block));
        Assert.All(cluster.Nodes.Where(n => n.Name.StartsWith("pcie8", StringComparison.Ordinal)), n => Assert.Equal(Topology.Requests.MachineKind.Vm, n.Info.Machine));
    }
}
