using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace SchedExt.Testing;

/// <summary>A TCP relay to a server whose open connections can be frozen (bytes dropped, nothing closed): a connection that died silently.</summary>
public sealed class BlackholeProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly ConcurrentBag<Conn> _conns = [];
    private readonly CancellationTokenSource _stop = new();

    public BlackholeProxy(string target)
    {
        _target = new Uri(target);
        _listener.Start();
        _ = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Accepted => _conns.Count;

    /// <summary>Every connection open now stops carrying bytes in both directions; none is closed. New connections work.</summary>
    public void FreezeOpenConnections()
    {
        foreach (var c in _conns)
        {
            c.Frozen = true;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch
            {
                return;
            }

            var upstream = new TcpClient();
            await upstream.ConnectAsync(_target.Host, _target.Port);
            var conn = new Conn();
            _conns.Add(conn);
            _ = PumpAsync(client.GetStream(), upstream.GetStream(), conn);
            _ = PumpAsync(upstream.GetStream(), client.GetStream(), conn);
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, Conn conn)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    if (!conn.Frozen)
                    {
                        to.Socket.Shutdown(SocketShutdown.Send);
                    }

                    return;
                }

                if (!conn.Frozen)
                {
                    await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                }
            }
        }
        catch
        {
            // the test is over
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
    }

    private sealed class Conn
    {
        public volatile bool Frozen;
    }
}
