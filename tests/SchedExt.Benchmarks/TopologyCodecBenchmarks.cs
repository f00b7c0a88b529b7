using BenchmarkDotNet.Attributes;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;
using SchedExt.Topology.Shapes;

namespace SchedExt.Benchmarks;

/// <summary>
/// Cost of reading node descriptions: the extender parses a node's annotation on every Node watch event that
/// changes it (thousands at cluster start-up), the node agent parses nvidia-smi output once per run.
/// </summary>
[MemoryDiagnoser]
public class TopologyCodecBenchmarks
{
    private string _hgxSmiText = string.Empty;
    private string _hgxAnnotation = string.Empty;
    private byte[] _synthetic64Annotation = [];
    private NodeTopology _hgx = null!;

    [GlobalSetup]
    public void Setup()
    {
        _hgxSmiText = TestData.ReadText("nvidia-smi-topo", "hgx-h200_8gpu_12nic_distributedai.txt");
        _hgx = ReferenceTopologies.HgxH200;
        _hgxAnnotation = TopologyAnnotation.Serialize(_hgx);
        _synthetic64Annotation = System.Text.Encoding.UTF8.GetBytes(TopologyAnnotation.Serialize(ReferenceTopologies.Synthetic(64)));
    }

    [Benchmark]
    public NodeTopology ParseNvidiaSmiHgx() => NvidiaSmiTopologyParser.Parse(_hgxSmiText);

    [Benchmark(Baseline = true)]
    public NodeTopology ParseAnnotationHgx() => TopologyAnnotation.Parse(_hgxAnnotation);

    [Benchmark]
    public NodeTopology ParseAnnotationSynthetic64() => TopologyAnnotation.Parse(_synthetic64Annotation);

    [Benchmark]
    public string SerializeAnnotationHgx() => TopologyAnnotation.Serialize(_hgx);
}
