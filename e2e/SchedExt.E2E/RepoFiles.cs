using YamlDotNet.RepresentationModel;

namespace SchedExt.E2E;

/// <summary>Reads the repository's own deployment files (manifests, webhook policy) that the tests check against.</summary>
public static class RepoFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>Absolute path of a file under the repository root (the folder holding SchedExt.sln).</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root.Value, .. parts]);

    /// <summary>Every YAML document of a repository file.</summary>
    public static IReadOnlyList<YamlMappingNode> ReadYaml(params string[] parts)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(PathOf(parts)))
        {
            stream.Load(reader);
        }

        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    /// <summary>The node at a path of mapping keys and sequence indices, or null when any step is missing.</summary>
    public static YamlNode? At(YamlNode node, params object[] path)
    {
        ArgumentNullException.ThrowIfNull(path);
        YamlNode? current = node;
        foreach (var step in path)
        {
            current = (current, step) switch
            {
                (YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null,
                (YamlSequenceNode list, int index) => index < list.Children.Count ? list.Children[index] : null,
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>The scalar value at a path, or null.</summary>
    public static string? ScalarAt(YamlNode node, params object[] path) => (At(node, path) as YamlScalarNode)?.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SchedExt.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("SchedExt.sln not found above " + AppContext.BaseDirectory);
    }
}
