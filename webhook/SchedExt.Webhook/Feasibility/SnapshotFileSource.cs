using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using SchedExt.Topology.Requests;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;
using SchedExt.Webhook.Policy;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SchedExt.Webhook.Feasibility;

/// <summary>Node shapes and namespace labels from a cluster snapshot file (shared format with the extender): a <c>kind: List</c> or a multi-document YAML/JSON stream.</summary>
/// <remarks>
/// Nodes and Namespaces are read by their kind (apiVersion is not needed, as in the extender); Pods and any other kind are
/// skipped. A bad file keeps the previous view; at start there is none, and the shapes stay unknown until a good file.
/// </remarks>
internal sealed class SnapshotFileSource(IOptions<WebhookOptions> options, ClusterView cluster, PolicyStore policies, ILogger<SnapshotFileSource> logger) : IWatchedFile
{
    private readonly string? _path = string.IsNullOrWhiteSpace(options.Value.SnapshotFile) ? null : options.Value.SnapshotFile;
    private readonly Lock _lock = new();
    private byte[]? _last;
    private string? _lastResource;
    private string? _lastError;

    public bool Enabled => _path is not null;

    /// <summary>Reads the file when it changed and publishes its shapes. Returns true when a new view was published.</summary>
    public bool Reload()
    {
        if (_path is null)
        {
            return false;
        }

        lock (_lock)
        {
            try
            {
                var bytes = File.ReadAllBytes(_path);

                // The node facts depend on the policy's devices.resourceName too: a corrected name re-reads the same file.
                var resource = policies.Current?.ResourceName ?? SchedExtKeys.GpuResource;
                if (_last is not null && bytes.AsSpan().SequenceEqual(_last) && resource == _lastResource)
                {
                    return false;
                }

                _last = bytes;
                _lastResource = resource;
                _lastError = null;
                var (nodes, namespaces) = Parse(System.Text.Encoding.UTF8.GetString(bytes));
                cluster.Publish(
                    nodes.Select(n => NodeFactsReader.FromNode(n, resource)),
                    namespaces.Where(n => n.Metadata?.Name is not null).ToDictionary(n => n.Metadata.Name, NodeFactsReader.LabelsOf, StringComparer.Ordinal),
                    "snapshot " + _path);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlException or FormatException or InvalidOperationException or ArgumentException)
            {
                // A missing or broken file is reported once, not on every check.
                if (ex.Message != _lastError)
                {
                    _lastError = ex.Message;
                    Log.SnapshotRejected(logger, _path, ex.Message);
                }

                return false;
            }
        }
    }

    /// <summary>Splits the document(s) into Node and Namespace objects, unwrapping <c>kind: List</c>.</summary>
    internal static (List<V1Node> Nodes, List<V1Namespace> Namespaces) Parse(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var nodes = new List<V1Node>();
        var namespaces = new List<V1Namespace>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is not YamlMappingNode root)
            {
                continue;
            }

            if (KindOf(root) == "List")
            {
                if (root.Children.TryGetValue(new YamlScalarNode("items"), out var items) && items is YamlSequenceNode sequence)
                {
                    foreach (var item in sequence.Children.OfType<YamlMappingNode>())
                    {
                        Add(item, nodes, namespaces);
                    }
                }

                continue;
            }

            Add(root, nodes, namespaces);
        }

        return (nodes, namespaces);
    }

    private static void Add(YamlMappingNode item, List<V1Node> nodes, List<V1Namespace> namespaces)
    {
        var kind = KindOf(item);
        if (kind is not ("Node" or "Namespace"))
        {
            return;
        }

        // Hand one object at a time to KubernetesClient's own YAML reader, so its model conventions apply. Read by kind, as
        // the extender reads the same files: LoadAllFromString would look the type up by apiVersion and throw
        // KeyNotFoundException for an object without one (common in hand-written files) or with one it does not know.
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(item)).Save(writer, assignAnchors: false);
        try
        {
            if (kind == "Node")
            {
                nodes.Add(KubernetesYaml.Deserialize<V1Node>(writer.ToString()));
            }
            else
            {
                namespaces.Add(KubernetesYaml.Deserialize<V1Namespace>(writer.ToString()));
            }
        }
        catch (YamlException e)
        {
            // Positions in the re-emitted object are not the file's: name the object and its first line instead, and give
            // the innermost reason ("Exception during deserialization" says nothing).
            var reason = e.InnerException?.GetBaseException().Message ?? e.Message;
            throw new FormatException($"{kind} '{NameOf(item)}' (line {item.Start.Line}): {reason}", e);
        }
    }

    private static string? KindOf(YamlMappingNode node) => ScalarOf(node, "kind");

    private static string? NameOf(YamlMappingNode node) =>
        node.Children.TryGetValue(new YamlScalarNode("metadata"), out var metadata) && metadata is YamlMappingNode map ? ScalarOf(map, "name") : null;

    private static string? ScalarOf(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    string IWatchedFile.FileDescription => "cluster snapshot";

    void IWatchedFile.ReloadIfChanged() => _ = Reload();
}
