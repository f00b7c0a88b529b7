using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;
using SchedExt.Webhook.Diagnostics;
using SchedExt.Webhook.Hosting;

namespace SchedExt.Webhook.Admission;

/// <summary><c>POST /mutate</c>: reads a bounded body, reviews it, writes the AdmissionReview answer. Malformed input gets 400, oversized 413.</summary>
internal sealed class AdmissionEndpoint(AdmissionReviewer reviewer, WebhookMetrics metrics, IOptions<WebhookOptions> options, TimeProvider time, ILogger<AdmissionEndpoint> logger)
{
    private readonly long _maxBody = options.Value.MaxRequestBodyBytes;
    private readonly ObjectPool<AnswerBuffer> _answers = new DefaultObjectPool<AnswerBuffer>(new AnswerBuffer.Policy(), Environment.ProcessorCount * 8);

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = time.GetTimestamp();
        if (context.Request.ContentLength > _maxBody)
        {
            await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body of {context.Request.ContentLength} bytes exceeds the limit of {_maxBody} bytes", started);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = _maxBody;
        }

        byte[]? rented = null;
        try
        {
            int length;
            try
            {
                (rented, length) = await ReadBodyAsync(context.Request.BodyReader, _maxBody, context.RequestAborted);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                length = -1;
            }
            catch (Exception ex) when (ex is IOException and not BadHttpRequestException or OperationCanceledException)
            {
                // The connection was reset (a caller that closes with unread data in its socket sends a reset, not a
                // clean end) or aborted while the body was read: nobody to answer. (BadHttpRequestException is an
                // IOException too: a body the server refuses is answered below.)
                metrics.Review(ReviewOutcome.CallerGone, time.GetElapsedTime(started));
                return;
            }
            catch (BadHttpRequestException ex)
            {
                // The server could not read the body: a malformed chunk is the caller's fault, answered with the server's
                // status and reason. A body that ended before its Content-Length means the caller closed its side, and
                // Kestrel closes the connection's output before throwing (it cancels RequestAborted only later, on the
                // thread pool): RejectAsync then finds the answer undeliverable and counts it as caller-gone.
                await RejectAsync(context, ex.StatusCode, "could not read the request body: " + ex.Message, started);
                return;
            }

            if (length < 0 || rented is null)
            {
                await RejectAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body exceeds the limit of {_maxBody} bytes", started);
                return;
            }

            AdmissionAnswer answer;
            try
            {
                answer = reviewer.Review(rented.AsMemory(0, length));
            }
            catch (BadReviewException ex)
            {
                await RejectAsync(context, StatusCodes.Status400BadRequest, ex.Message, started);
                return;
            }
            catch (JsonException ex)
            {
                // The envelope was well-formed but the pod object inside it was not.
                await RejectAsync(context, StatusCodes.Status400BadRequest, "malformed pod object: " + ex.Message, started);
                return;
            }

            // The answer is written whole into a pooled buffer first, so the reply carries a Content-Length and goes
            // out in one write instead of as chunks.
            var reply = _answers.Get();
            try
            {
                answer.WriteTo(reply.Writer);
                reply.Writer.Flush();
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = reply.Output.WrittenCount;
                metrics.Review(answer.Outcome, time.GetElapsedTime(started));
                await context.Response.BodyWriter.WriteAsync(reply.Output.WrittenMemory, context.RequestAborted);
            }
            finally
            {
                _answers.Return(reply);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Reads the whole body into a pooled array; length -1 when it passes <paramref name="max"/>.</summary>
    internal static async Task<(byte[]? Buffer, int Length)> ReadBodyAsync(PipeReader reader, long max, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.End);
                return (null, -1);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var length = (int)buffer.Length;
                var array = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
                buffer.CopyTo(array);
                reader.AdvanceTo(buffer.End);
                return (array, length);
            }

            // Nothing consumed, everything examined: wake up only when more bytes arrive.
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Answers <paramref name="status"/> with <paramref name="message"/> as plain text: logged and counted as a bad
    /// request, or, when the connection is already closed (nothing can be delivered), counted as caller-gone.
    /// </summary>
    private async Task RejectAsync(HttpContext context, int status, string message, long started)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        var sent = await context.Response.BodyWriter.WriteAsync(System.Text.Encoding.UTF8.GetBytes(message + "\n"), CancellationToken.None);
        if (sent.IsCompleted || context.RequestAborted.IsCancellationRequested)
        {
            metrics.Review(ReviewOutcome.CallerGone, time.GetElapsedTime(started));
            return;
        }

        Log.BadReview(logger, message);
        metrics.Review(ReviewOutcome.BadRequest, time.GetElapsedTime(started));
    }
}

/// <summary>A reply buffer and the reused writer over it, rented per review.</summary>
internal sealed class AnswerBuffer
{
    public AnswerBuffer() => Writer = new Utf8JsonWriter(Output, AdmissionAnswer.WriterOptions);

    public ArrayBufferWriter<byte> Output { get; } = new(4096);

    public Utf8JsonWriter Writer { get; }

    /// <summary>Resets on return; drops a buffer an unusually large answer grew, so the pool does not pin it.</summary>
    public sealed class Policy : PooledObjectPolicy<AnswerBuffer>
    {
        public override AnswerBuffer Create() => new();

        public override bool Return(AnswerBuffer obj)
        {
            ArgumentNullException.ThrowIfNull(obj);
            obj.Output.ResetWrittenCount();
            obj.Writer.Reset(obj.Output);
            return obj.Output.Capacity <= 1024 * 1024;
        }
    }
}
