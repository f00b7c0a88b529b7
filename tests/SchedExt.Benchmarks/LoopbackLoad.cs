using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SchedExt.Benchmarks;

/// <summary>
/// A lean closed-loop load generator for a server on loopback, in the manner of <c>wrk</c>: a fixed number of
/// kept-alive HTTP/1.1 connections, each sending one pre-built POST at a time and reading the whole reply
/// (Content-Length framing, status must be 200) before sending the next. Client and server share the machine's cores,
/// so the client does as little as possible per request: no HttpClient, no header objects, no allocation per request.
/// </summary>
internal sealed class LoopbackLoad : IDisposable
{
    private readonly Connection[] _connections;

    private LoopbackLoad(Connection[] connections) => _connections = connections;

    /// <summary>Opens <paramref name="connections"/> connections to <paramref name="server"/> that will POST <paramref name="body"/> to <paramref name="path"/>.</summary>
    public static async Task<LoopbackLoad> ConnectAsync(IPEndPoint server, string path, byte[] body, int connections)
    {
        var head = Encoding.ASCII.GetBytes(
            $"POST {path} HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        var request = new byte[head.Length + body.Length];
        head.CopyTo(request, 0);
        body.CopyTo(request, head.Length);
        var opened = new Connection[connections];
        for (var i = 0; i < connections; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server);
            opened[i] = new Connection(socket, request);
        }

        return new LoopbackLoad(opened);
    }

    /// <summary>Every connection sends <paramref name="requestsPerConnection"/> requests, one after another, all connections at once.</summary>
    public Task RunAsync(int requestsPerConnection)
    {
        var running = new Task[_connections.Length];
        for (var i = 0; i < running.Length; i++)
        {
            running[i] = _connections[i].RunAsync(requestsPerConnection);
        }

        return Task.WhenAll(running);
    }

    /// <summary>The last reply's body on the first connection (to check what the server answers).</summary>
    public ReadOnlySpan<byte> LastReplyBody => _connections[0].LastBody;

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }
    }

    private sealed class Connection(Socket socket, byte[] request) : IDisposable
    {
        private readonly byte[] _reply = new byte[256 * 1024];
        private int _bodyStart;
        private int _bodyLength;

        public ReadOnlySpan<byte> LastBody => _reply.AsSpan(_bodyStart, _bodyLength);

        public async Task RunAsync(int requests)
        {
            for (var r = 0; r < requests; r++)
            {
                var sent = 0;
                while (sent < request.Length)
                {
                    sent += await socket.SendAsync(request.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }

                await ReceiveAsync().ConfigureAwait(false);
            }
        }

        private async Task ReceiveAsync()
        {
            var filled = 0;
            var headerEnd = -1;
            var total = int.MaxValue;
            while (filled < total)
            {
                var read = await socket.ReceiveAsync(_reply.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new InvalidOperationException("server closed the connection");
                }

                filled += read;
                if (headerEnd < 0)
                {
                    headerEnd = _reply.AsSpan(0, filled).IndexOf("\r\n\r\n"u8);
                    if (headerEnd >= 0)
                    {
                        _bodyStart = headerEnd + 4;
                        _bodyLength = ParseHead(_reply.AsSpan(0, headerEnd));
                        total = _bodyStart + _bodyLength;
                        if (total > _reply.Length)
                        {
                            throw new InvalidOperationException($"reply of {total} bytes does not fit the {_reply.Length}-byte buffer");
                        }
                    }
                }
            }

            if (filled != total)
            {
                throw new InvalidOperationException("server sent more than one reply");
            }
        }

        /// <summary>Checks the status line is 200 and returns the Content-Length.</summary>
        private static int ParseHead(ReadOnlySpan<byte> head)
        {
            if (!head.StartsWith("HTTP/1.1 200 "u8))
            {
                throw new InvalidOperationException("server answered: " + Encoding.ASCII.GetString(head[..Math.Min(head.Length, 200)]));
            }

            var at = IndexOfIgnoreCase(head, "\r\ncontent-length:"u8);
            if (at < 0)
            {
                throw new InvalidOperationException("reply has no Content-Length (chunked replies are not supported by this client)");
            }

            var value = head[(at + 17)..].TrimStart((byte)' ');
            if (!Utf8Parser.TryParse(value, out int length, out _))
            {
                throw new InvalidOperationException("unreadable Content-Length");
            }

            return length;
        }

        private static int IndexOfIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowerNeedle)
        {
            for (var i = 0; i + lowerNeedle.Length <= text.Length; i++)
            {
                if (Ascii.EqualsIgnoreCase(text.Slice(i, lowerNeedle.Length), lowerNeedle))
                {
                    return i;
                }
            }

            return -1;
        }

        public void Dispose() => socket.Dispose();
    }
}
