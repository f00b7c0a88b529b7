using System.Text.Json;
using k8s;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SchedExt.Extender.Sources;

/// <summary>
/// Reads a file of Nodes and Pods: a multi-document YAML stream of objects, a <c>kind: List</c> (or NodeList/PodList)
/// with <c>items</c>, or the same as JSON — what <c>kubectl get nodes,pods -A -o yaml</c> prints. Other kinds are
/// skipped. Errors name the file, the document (or list item) and the line.
/// </summary>
internal static class SnapshotFile
{
    /// <summary>Reads and parses <paramref name="path"/>; throws <see cref="InvalidDataException"/> with a located message when it is malformed.</summary>
    public static ClusterObjects Load(string path, out int skipped) => Parse(File.ReadAllText(path), path, out skipped);

    /// <summary>Parses snapshot text; <paramref name="source"/> names it in error messages.</summary>
    public static ClusterObjects Parse(string text, string source, out int skipped)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (string.IsNullOrWhiteSpace(text))
        {
            // Most often a file caught while it is being rewritten in place: never mistake it for a cluster with no nodes.
            throw new InvalidDataException($"{source}: the file is empty");
        }

        var reader = new Reader(source);
        if (text.AsSpan().TrimStart().StartsWith("{"))
        {
            reader.ReadJson(text);
        }
        else
        {
            reader.ReadYaml(text);
        }

        skipped = reader.Skipped;
        return new ClusterObjects(reader.Nodes, reader.Pods);
    }

    private sealed class Reader(string source)
    {
        public List<V1Node> Nodes { get; } = [];

        public List<V1Pod> Pods { get; } = [];

        public int Skipped { get; private set; }

        public void ReadYaml(string text)
        {
            var stream = new YamlStream();
            try
            {
                stream.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                throw new InvalidDataException($"{source}: line {e.Start.Line}, column {e.Start.Column}: {Innermost(e).Message}", e);
            }

            for (var d = 0; d < stream.Documents.Count; d++)
            {
                var root = stream.Documents[d].RootNode;
                var where = $"document {d + 1} (line {root.Start.Line})";
                if (root is YamlScalarNode { Value: null or "" })
                {
                    continue;
                }

                ReadYamlObject(root, where, allowList: true);
            }
        }

        public void ReadJson(string text)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{source}: line {e.LineNumber + 1}: {e.Message}", e);
            }

            using (document)
            {
                ReadJsonObject(document.RootElement, "the document", allowList: true);
            }
        }

        private void ReadYamlObject(YamlNode node, string where, bool allowList)
        {
            if (node is not YamlMappingNode map)
            {
                throw Error(where, "expected a Kubernetes object (a mapping with apiVersion and kind)");
            }

            var kind = map.Children.TryGetValue(new YamlScalarNode("kind"), out var k) && k is YamlScalarNode s ? s.Value : null;
            switch (kind)
            {
                case "Node":
                    Nodes.Add(DeserializeYaml<V1Node>(map, where));
                    break;
                case "Pod":
                    Pods.Add(WithUid(DeserializeYaml<V1Pod>(map, where)));
                    break;
                case null or "":
                    throw Error(where, "has no kind");
                case not null when allowList && kind.EndsWith("List", StringComparison.Ordinal):
                    if (!map.Children.TryGetValue(new YamlScalarNode("items"), out var items) || items is not YamlSequenceNode sequence)
                    {
                        if (items is YamlScalarNode { Value: null or "" } || items is null)
                        {
                            break;
                        }

                        throw Error(where, $"{kind} has no items sequence");
                    }

                    for (var i = 0; i < sequence.Children.Count; i++)
                    {
                        var item = sequence.Children[i];
                        ReadYamlObject(item, $"{where}, items[{i}] (line {item.Start.Line})", allowList: false);
                    }

                    break;
                default:
                    Skipped++;
                    break;
            }
        }

        private void ReadJsonObject(JsonElement element, string where, bool allowList)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error(where, "expected a Kubernetes object (a JSON object with apiVersion and kind)");
            }

            var kind = element.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
            switch (kind)
            {
                case "Node":
                    Nodes.Add(DeserializeJson<V1Node>(element, where));
                    break;
                case "Pod":
                    Pods.Add(WithUid(DeserializeJson<V1Pod>(element, where)));
                    break;
                case null or "":
                    throw Error(where, "has no kind");
                case not null when allowList && kind.EndsWith("List", StringComparison.Ordinal):
                    if (!element.TryGetProperty("items", out var items) || items.ValueKind is JsonValueKind.Null)
                    {
                        break;
                    }

                    if (items.ValueKind != JsonValueKind.Array)
                    {
                        throw Error(where, $"{kind} has no items array");
                    }

                    var i = 0;
                    foreach (var item in items.EnumerateArray())
                    {
                        ReadJsonObject(item, $"items[{i++}]", allowList: false);
                    }

                    break;
                default:
                    Skipped++;
                    break;
            }
        }

        private T DeserializeYaml<T>(YamlMappingNode node, string where)
        {
            using var text = new StringWriter();
            new YamlStream(new YamlDocument(node)).Save(text, assignAnchors: false);
            try
            {
                return KubernetesYaml.Deserialize<T>(text.ToString());
            }
            catch (YamlException e)
            {
                // Lines of the re-emitted object differ from the file's; name the object and its first line instead.
                throw Error($"{where}{NameOf(node)}", Innermost(e).Message, e);
            }
        }

        private T DeserializeJson<T>(JsonElement element, string where)
        {
            try
            {
                return KubernetesJson.Deserialize<T>(element.GetRawText());
            }
            catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException)
            {
                // Besides malformed JSON: a quantity or timestamp the models cannot parse (FormatException, overflow),
                // or a string that cannot be decoded (a lone surrogate escape).
                var name = element.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object && m.TryGetProperty("name", out var n) ? $" '{n}'" : string.Empty;
                throw Error(where + name, e.Message, e);
            }
        }

        private static string NameOf(YamlMappingNode node) =>
            node.Children.TryGetValue(new YamlScalarNode("metadata"), out var m) && m is YamlMappingNode meta
            && meta.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode name
                ? $" '{name.Value}'"
                : string.Empty;

        /// <summary>Hand-written pods often have no UID; the namespace/name pair identifies them just as well within one file.</summary>
        private static V1Pod WithUid(V1Pod pod)
        {
            if (pod.Metadata is { } m && string.IsNullOrEmpty(m.Uid))
            {
                m.Uid = $"{m.NamespaceProperty ?? "default"}/{m.Name}";
            }

            return pod;
        }

        private static Exception Innermost(Exception e)
        {
            while (e.InnerException is not null)
            {
                e = e.InnerException;
            }

            return e;
        }

        private InvalidDataException Error(string where, string message, Exception? inner = null) =>
            new($"{source}: {where}: {message}", inner);
    }
}
