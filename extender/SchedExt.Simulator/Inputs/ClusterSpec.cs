using System.Globalization;
using SchedExt.Extender.State;
using SchedExt.Topology.Requests;
using SchedExt.Topology.Shapes;

namespace SchedExt.Simulator.Inputs;

/// <summary>
/// A compact cluster description, e.g. <c>400x hgx-h200, 200x dgx1-v100, 100x pcie8-two-socket:vm</c>: node counts of
/// the built-in shapes (<see cref="ReferenceTopologies.Names"/>), each optionally <c>:vm</c> or <c>:bare-metal</c> (the
/// default). Nodes are named <c>&lt;shape&gt;-0001…</c>; every 8 consecutive nodes of a shape form a rack and every 4
/// racks a block, so placement-group locality has something to work with.
/// </summary>
internal static class ClusterSpec
{
    public const int NodesPerRack = 8;
    public const int RacksPerBlock = 4;

    /// <summary>Parses <paramref name="spec"/> into nodes interned in <paramref name="catalog"/>; throws <see cref="FormatException"/> naming the bad item.</summary>
    public static IReadOnlyList<NodeInfo> Parse(string spec, ShapeCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(catalog);
        var nodes = new List<NodeInfo>();
        var items = spec.Split(',', StringSplitOptions.TrimEntries);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Length; i++)
        {
            var item = items[i];
            var (count, shapeName, machine) = ParseItem(item, i + 1);
            if (!seen.Add(shapeName + ":" + SchedExtKeys.Format(machine)))
            {
                throw new FormatException($"cluster spec item {i + 1} ('{item}'): {shapeName} is listed twice");
            }

            var topology = ReferenceTopologies.Find(shapeName)!;
            var shape = catalog.GetOrAdd(topology);
            var prefix = machine == MachineKind.Vm ? shapeName + "-vm" : shapeName;
            for (var n = 0; n < count; n++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{n + 1:D4}");
                var rack = n / NodesPerRack;
                var block = rack / RacksPerBlock;
                nodes.Add(new NodeInfo(
                    name,
                    topology,
                    shape,
                    machine,
                    string.Create(CultureInfo.InvariantCulture, $"{prefix}-rack-{rack + 1:D3}"),
                    string.Create(CultureInfo.InvariantCulture, $"{prefix}-block-{block + 1:D2}"),
                    null));
            }
        }

        return nodes;
    }

    private static (int Count, string Shape, MachineKind Machine) ParseItem(string item, int position)
    {
        string Where() => $"cluster spec item {position} ('{item}')";
        var cut = item.IndexOfAny(['x', 'X', '×', '*']);
        if (cut <= 0)
        {
            throw new FormatException($"{Where()}: expected COUNTx SHAPE[:vm|:bare-metal], e.g. 400x hgx-h200");
        }

        if (!int.TryParse(item.AsSpan(0, cut).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            throw new FormatException($"{Where()}: '{item[..cut].Trim()}' is not a positive node count");
        }

        var rest = item[(cut + 1)..].Trim();
        var machine = MachineKind.BareMetal;
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            if (!SchedExtKeys.TryParseMachineKind(rest.AsSpan(colon + 1), out machine))
            {
                throw new FormatException($"{Where()}: machine kind '{rest[(colon + 1)..]}' is not vm or bare-metal");
            }

            rest = rest[..colon].Trim();
        }

        if (ReferenceTopologies.Find(rest) is null)
        {
            throw new FormatException($"{Where()}: unknown shape '{rest}'; known shapes: {string.Join(", ", ReferenceTopologies.Names)}");
        }

        return (count, rest, machine);
    }
}
