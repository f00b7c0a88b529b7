using System.Text;
using CsCheck;
using SchedExt.Testing;
using SchedExt.Topology.Annotation;
using SchedExt.Topology.Shapes;
using SchedExt.Topology.Tests.Generators;

namespace SchedExt.Topology.Tests.Annotation;

public sealed class TopologyAnnotationRoundTripTests
{
    private const string GoldenArea = "topology-annotation";

    public static TheoryData<string> ReferenceNames => [.. ReferenceTopologies.Names];

    [Theory]
    [MemberData(nameof(ReferenceNames))]
    public void RoundTrip_ReferenceTopology_IsStructurallyEqualAndCanonical(string name)
    {
        var topology = ReferenceTopologies.Find(name)!;

        var json = TopologyAnnotation.Serialize(topology);
        var parsed = TopologyAnnotation.Parse(json);

        Assert.True(parsed.StructurallyEquals(topology));
        Assert.Equal(json, TopologyAnnotation.Serialize(parsed));
    }

    [Theory]
    [InlineData(32, 8)]
    [InlineData(64, 8)]
    [InlineData(64, 64)]
    public void RoundTrip_SyntheticTopology_IsStructurallyEqual(int gpus, int group)
    {
        var topology = ReferenceTopologies.Synthetic(gpus, group);

        Assert.True(TopologyAnnotation.Parse(TopologyAnnotation.Serialize(topology)).StructurallyEquals(topology));
    }

    /// <summary>
    /// tests/testdata/topology-annotation/&lt;shape&gt;/annotation.json pins the v1 wire form of each reference shape:
    /// a change here is a change of the node contract. Set SCHEDEXT_UPDATE_GOLDEN=1 to rewrite the files that differ (the test then fails).
    /// </summary>
    [Fact]
    public void Serialize_ReferenceTopologies_MatchGoldenFiles()
    {
        var rewritten = new List<string>();
        foreach (var name in ReferenceTopologies.Names)
        {
            if (GoldenFiles.Update(AnnotationFile(name), TopologyAnnotation.Serialize(ReferenceTopologies.Find(name)!) + "\n"))
            {
                rewritten.Add(AnnotationFile(name));
            }
        }

        if (rewritten.Count > 0)
        {
            Assert.Fail(GoldenFiles.Rewritten(rewritten));
        }

        var folders = Directory.GetDirectories(TestData.PathOf(GoldenArea)).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(ReferenceTopologies.Names.Order(), folders);
        foreach (var name in folders)
        {
            var golden = File.ReadAllText(AnnotationFile(name!)).TrimEnd('\n');
            var expected = ReferenceTopologies.Find(name!)!;

            Assert.Equal(golden, TopologyAnnotation.Serialize(expected));
            Assert.True(TopologyAnnotation.Parse(golden).StructurallyEquals(expected), name);
        }
    }

    [Fact]
    public void RoundTrip_RandomTopology_ParseOfSerializeIsStructurallyEqual()
    {
        TopologyGen.Any.Sample(topology =>
        {
            var json = TopologyAnnotation.Serialize(topology);

            Assert.True(TopologyAnnotation.Parse(json).StructurallyEquals(topology), json);
            Assert.True(TopologyAnnotation.Parse(Encoding.UTF8.GetBytes(json)).StructurallyEquals(topology), json);
        }, iter: 500);
    }

    [Fact]
    public void RoundTrip_RandomTopology_SerializeIsAFixedPoint()
    {
        TopologyGen.Any.Sample(topology =>
        {
            var json = TopologyAnnotation.Serialize(topology);

            Assert.Equal(json, TopologyAnnotation.Serialize(TopologyAnnotation.Parse(json)));
        }, iter: 500);
    }

    private static string AnnotationFile(string name) => TestData.PathOf(GoldenArea, name, "annotation.json");
}
