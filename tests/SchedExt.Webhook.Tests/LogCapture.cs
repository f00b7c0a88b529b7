using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SchedExt.Webhook.Tests;

/// <summary>Records every log entry of a host (event id and formatted message), for tests that assert what an operator would read.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(int EventId, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(int EventId, LogLevel Level, string Message)> Entries => [.. _entries];

    /// <summary>The messages logged with event id <paramref name="eventId"/>, oldest first.</summary>
    public IReadOnlyList<string> Messages(int eventId) => [.. _entries.Where(e => e.EventId == eventId).Select(e => e.Message)];

    public ILogger CreateLogger(string categoryName) => new Logger<LogCapture>(this);

    /// <summary>A logger for a class built by hand in a test (no host, no logger factory).</summary>
    public ILogger<T> CreateLogger<T>() => new Logger<T>(this);

    public void Dispose()
    {
    }

    private sealed class Logger<T>(LogCapture capture) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}
