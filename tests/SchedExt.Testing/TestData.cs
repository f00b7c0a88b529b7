namespace SchedExt.Testing;

/// <summary>Locates the repository's <c>tests/testdata</c> folder from any test's output directory.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>Absolute path of <c>tests/testdata</c>.</summary>
    public static string Directory => Root.Value;

    /// <summary>Absolute path of a file or folder under <c>tests/testdata</c>.</summary>
    public static string PathOf(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    /// <summary>Reads a text file under <c>tests/testdata</c> verbatim.</summary>
    public static string ReadText(params string[] parts) => File.ReadAllText(PathOf(parts));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "testdata");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/testdata not found above " + AppContext.BaseDirectory);
    }
}
