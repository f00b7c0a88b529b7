using CsCheck;
using SchedExt.Topology.Model;

namespace SchedExt.Topology.Tests.Generators;

/// <summary>CsCheck generators of valid <see cref="NodeTopology"/> values.</summary>
internal static class TopologyGen
{
    /// <summary>Any link class a pair of distinct GPUs can have, NVLink counts across their whole range.</summary>
    public static readonly Gen<Link> GpuPairLink = Gen.OneOf(
        Gen.OneOf(Link.Sys, Link.Node, Link.Phb, Link.Pxb, Link.Pix),
        Gen.Int[1, Link.MaxNvLinks].Select(Link.NvLink));

    /// <summary>Any GPU–NIC link class.</summary>
    public static readonly Gen<Link> NicLink = Gen.OneOf(Link.Sys, Link.Node, Link.Phb, Link.Pxb, Link.Pix);

    /// <summary>Text with the characters JSON must escape, non-ASCII letters and symbols, and surrogate pairs.</summary>
    public static readonly Gen<string> AnyText = Gen.OneOf(
            Gen.Char[' ', '~'],
            Gen.Char['\u00a0', '\u07ff'],
            Gen.OneOf('"', '\\', '\n', '\t', '\u0001', '\u2028', '€', '<', '+', '\''))
        .Array[0, 10]
        .SelectMany(chars => Gen.Bool.Select(emoji => new string(chars) + (emoji ? "\U0001F680" : string.Empty)));

    /// <summary>Topologies of 0–12 GPUs, 0–5 NICs and 0–4 NUMA nodes with arbitrary optional fields and names.</summary>
    public static readonly Gen<NodeTopology> Any = Build(AnyText, AnyText, AnyText);

    /// <summary>Topologies whose names and CPU lists could have come from nvidia-smi (no spaces, valid CPU lists).</summary>
    public static readonly Gen<NodeTopology> SmiLike = Build(
        Gen.OneOf("mlx5_", "ib", "bnxt_re", "NIC_"),
        Gen.Const("NVIDIA H100 80GB HBM3"),
        Gen.Int[0, 255].Array[1, 3].Select(starts => string.Join(',', starts.Order().Distinct().Select(s => $"{s * 4}-{(s * 4) + 3}"))));

    private static Gen<string?> Optional(Gen<string> value) =>
        Gen.Bool.SelectMany(present => present ? value.Select(v => (string?)v) : Gen.Const((string?)null));

    private static Gen<NodeTopology> Build(Gen<string> nicPrefix, Gen<string> text, Gen<string> cpus) =>
        from n in Gen.Int[0, 12]
        from m in Gen.Int[0, 5]
        from numaIds in Gen.Int[0, 9].HashSet[0, 4]
        let ids = numaIds.Order().ToArray()
        from gpus in GpuFields(text, ids).Array[n]
        from nicPrefixes in nicPrefix.Array[m]
        from nicNuma in NumaOf(ids).Array[m]
        from numaCpus in Optional(cpus).Array[ids.Length]
        from pairLinks in GpuPairLink.Array[n * (n - 1) / 2]
        from nicLinks in NicLink.Array[n * m]
        select Create(gpus, nicPrefixes, nicNuma, ids, numaCpus, pairLinks, nicLinks);

    private static Gen<GpuDevice> GpuFields(Gen<string> text, int[] numaIds) =>
        from uuid in Optional(Gen.Guid.Select(g => "GPU-" + g.ToString()))
        from product in Optional(text)
        from memory in Gen.OneOf(Gen.Const(0), Gen.Int[1, int.MaxValue])
        from numa in NumaOf(numaIds)
        select new GpuDevice(0, uuid, product, memory, numa);

    /// <summary>-1 or one of the listed ids; any small id when none are listed (then nothing constrains it).</summary>
    private static Gen<int> NumaOf(int[] ids) =>
        ids.Length == 0 ? Gen.Int[-1, 3] : Gen.Int[-1, ids.Length - 1].Select(k => k < 0 ? -1 : ids[k]);

    private static NodeTopology Create(GpuDevice[] gpus, string[] nicPrefixes, int[] nicNuma, int[] numaIds, string?[] numaCpus, Link[] pairLinks, Link[] nicLinks)
    {
        var n = gpus.Length;
        var gpuLinks = new Link[n * n];
        var next = 0;
        for (var a = 0; a < n; a++)
        {
            gpuLinks[(a * n) + a] = Link.Self;
            for (var b = a + 1; b < n; b++)
            {
                gpuLinks[(a * n) + b] = gpuLinks[(b * n) + a] = pairLinks[next++];
            }
        }

        return NodeTopology.Create(
            [.. gpus.Select((g, i) => g with { Index = i })],
            [.. nicPrefixes.Select((p, j) => new NicDevice(p + j.ToString(System.Globalization.CultureInfo.InvariantCulture), nicNuma[j]))],
            [.. numaIds.Select((id, k) => new NumaNodeInfo(id, numaCpus[k]))],
            gpuLinks,
            nicLinks);
    }
}
