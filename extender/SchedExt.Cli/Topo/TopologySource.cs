using SchedExt.Topology.Annotation;
using SchedExt.Topology.Model;
using SchedExt.Topology.Parsing;

namespace SchedExt.Cli.Topo;

/// <summary>Where <c>schedext topo</c> gets the hardware from: files or standard input, or nvidia-smi itself.</summary>
internal sealed class TopologySource(CliHost host, string? topologyFile, string? inventoryFile, string nvidiaSmi)
{
    private static readonly string[] TopoArguments = ["topo", "-m"];
    private static readonly string[] InventoryArguments = GpuInventoryParser.Arguments.Split(' ');

    /// <summary>Reads and parses the topology (enriched with the GPU inventory where there is one) and its annotation text.</summary>
    public async Task<(NodeTopology Topology, string Annotation)> ReadAsync(CancellationToken cancellationToken)
    {
        string topoText;
        string? inventoryText = null;
        if (topologyFile is null)
        {
            topoText = await NvidiaSmi.RunAsync(nvidiaSmi, TopoArguments, host.ProcessTimeout, cancellationToken).ConfigureAwait(false);
            inventoryText = await NvidiaSmi.RunAsync(nvidiaSmi, InventoryArguments, host.ProcessTimeout, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            topoText = await ReadInputAsync(topologyFile, cancellationToken).ConfigureAwait(false);
            if (inventoryFile is not null)
            {
                inventoryText = await ReadInputAsync(inventoryFile, cancellationToken).ConfigureAwait(false);
            }
        }

        var topology = Parse("nvidia-smi topo -m output", topologyFile, () => NvidiaSmiTopologyParser.Parse(topoText));
        if (inventoryText is not null)
        {
            var inventory = Parse("GPU inventory", inventoryFile, () => GpuInventoryParser.Parse(inventoryText));
            topology = Parse("GPU inventory", inventoryFile, () => GpuInventoryParser.Enrich(topology, inventory));
        }

        return (topology, TopologyAnnotation.Serialize(topology));
    }

    private async Task<string> ReadInputAsync(string path, CancellationToken cancellationToken)
    {
        if (path == "-")
        {
            return await host.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.InputUnavailable, $"cannot read {path}: {e.Message}", e);
        }
    }

    private static T Parse<T>(string what, string? path, Func<T> parse)
    {
        var where = path is null ? "from nvidia-smi" : path == "-" ? "from standard input" : "in " + path;
        try
        {
            return parse();
        }
        catch (NvidiaSmiParseException e)
        {
            throw new CliException(ExitCodes.InputInvalid, $"{what} {where}: line {e.Line}: {e.Reason}", e);
        }
        catch (TopologyFormatException e)
        {
            throw new CliException(ExitCodes.InputInvalid, $"{what} {where}: {e.Message}", e);
        }
    }
}
