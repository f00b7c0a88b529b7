using System.ComponentModel;
using System.Diagnostics;

namespace SchedExt.Cli.Topo;

/// <summary>Runs nvidia-smi and returns what it printed; every failure is a <see cref="CliException"/> with <see cref="ExitCodes.InputUnavailable"/>.</summary>
internal static class NvidiaSmi
{
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var commandLine = program + " " + string.Join(' ', arguments);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CliException(ExitCodes.InputUnavailable, $"could not start {commandLine}");
        }
        catch (Win32Exception e)
        {
            throw new CliException(
                ExitCodes.InputUnavailable,
                $"cannot run {program}: {e.Message}. In a pod, nvidia-smi comes from the NVIDIA container toolkit (NVIDIA_VISIBLE_DEVICES=all, runtimeClassName: nvidia); elsewhere pass --file",
                e);
        }

        using (process)
        {
            // Read both pipes while waiting: a full stderr pipe would otherwise block the child forever.
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                cancellationToken.ThrowIfCancellationRequested();
                throw new CliException(ExitCodes.InputUnavailable, $"{commandLine} did not finish within {timeout.TotalSeconds:0} s (killed)");
            }

            var output = await stdout.ConfigureAwait(false);
            var errors = (await stderr.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0)
            {
                var detail = errors.Length > 0 ? errors : output.Trim();
                throw new CliException(ExitCodes.InputUnavailable, $"{commandLine} exited with {process.ExitCode}: {FirstLine(detail)}");
            }

            return output;
        }
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
