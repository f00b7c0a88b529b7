namespace SchedExt.Testing;

/// <summary>The update mode of golden files: a run with the variable set rewrites what differs and must then fail, so it never passes as a check.</summary>
public static class GoldenFiles
{
    /// <summary>Set to 1 to rewrite the golden files under tests/testdata from what the code produces.</summary>
    public const string UpdateVariable = "SCHEDEXT_UPDATE_GOLDEN";

    /// <summary>
    /// When <paramref name="variable"/> is 1 and <paramref name="path"/> is missing or holds other text, writes
    /// <paramref name="content"/> there and returns true: the caller fails with <see cref="Rewritten"/>. Otherwise
    /// writes nothing and returns false, and the caller compares as usual.
    /// </summary>
    public static bool Update(string path, string content, string variable = UpdateVariable)
    {
        if (Environment.GetEnvironmentVariable(variable) != "1" || (File.Exists(path) && File.ReadAllText(path) == content))
        {
            return false;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return true;
    }

    /// <summary>The failure message after <see cref="Update"/> rewrote <paramref name="paths"/>.</summary>
    public static string Rewritten(IEnumerable<string> paths, string variable = UpdateVariable) =>
        $"{variable}=1 rewrote {string.Join(", ", paths)}; review the diff, then run the tests again without {variable}";
}
