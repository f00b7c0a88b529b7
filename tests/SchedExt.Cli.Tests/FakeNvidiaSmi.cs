namespace SchedExt.Cli.Tests;

/// <summary>A stand-in nvidia-smi: a shell script in a temporary folder that prints given outputs or fails as told.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class FakeNvidiaSmi : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("schedext-nvidia-smi-").FullName;

    public FakeNvidiaSmi(string script)
    {
        Program = Path.Combine(_directory, "nvidia-smi");
        File.WriteAllText(Program, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(Program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Program { get; }

    /// <summary>Answers <c>topo -m</c> with <paramref name="topoFile"/> and <c>--query-gpu=…</c> with <paramref name="inventoryFile"/>.</summary>
    public static FakeNvidiaSmi Printing(string topoFile, string inventoryFile) => new($"""
        case "$1" in
          topo) [ "$2" = "-m" ] || exit 64; cat '{topoFile}' ;;
          --query-gpu=*) cat '{inventoryFile}' ;;
          *) echo "unexpected arguments: $*" >&2; exit 64 ;;
        esac
        """);

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
