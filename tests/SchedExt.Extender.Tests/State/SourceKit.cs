using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SchedExt.Extender;
using SchedExt.Extender.Sources;
using SchedExt.Extender.State;
using SchedExt.Topology.Shapes;

namespace SchedExt.Extender.Tests.State;

/// <summary>Readers, state and options wired the way <see cref="SourceRegistration"/> wires them, for source tests.</summary>
internal sealed class SourceKit
{
    public SourceKit(ExtenderOptions? options = null, TimeProvider? time = null)
    {
        Options = options ?? new ExtenderOptions();
        Time = time ?? TimeProvider.System;
        Catalog = new ShapeCatalog();
        State = new ClusterState(Catalog, Time);
        NodeReader = new NodeReader(Catalog, Microsoft.Extensions.Options.Options.Create(Options), NodeLog);
        PodReader = new PodReader(PodLog);
    }

    public ExtenderOptions Options { get; }

    public TimeProvider Time { get; }

    public ShapeCatalog Catalog { get; }

    public ClusterState State { get; }

    public ListLogger<NodeReader> NodeLog { get; } = new();

    public ListLogger<PodReader> PodLog { get; } = new();

    public NodeReader NodeReader { get; }

    public PodReader PodReader { get; }

    /// <summary>A bare-metal DGX-1V node named <paramref name="name"/> in rack r1, its shape from <see cref="Catalog"/>.</summary>
    public NodeInfo DgxNode(string name) =>
        new(name, ReferenceTopologies.Dgx1V100, Catalog.GetOrAdd(ReferenceTopologies.Dgx1V100), SchedExt.Topology.Requests.MachineKind.BareMetal, "r1", null, null);

    public IOptions<ExtenderOptions> WrappedOptions => Microsoft.Extensions.Options.Options.Create(Options);

    public static ILogger<T> Silent<T>() => NullLogger<T>.Instance;

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after a generous bound (a hang guard, not a timing assertion: the build machine is shared).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 1200; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(25);
        }

        Assert.Fail("timed out waiting until " + what);
    }
}

/// <summary>Keeps formatted log lines with their event ids, so tests can assert what was reported.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(EventId Id, LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((eventId, logLevel, formatter(state, exception)));
        }
    }
}
