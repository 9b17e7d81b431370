using CoLaR.Checkpoints;
using CoLaR.Data;
using CoLaR.Native;
using CoLaR.Runs;
using CoLaR.Training;

namespace CoLaR.Models.Cli;

/// <summary>
/// Turns failures into one clear line on stderr and an exit code: 2 for bad input (data, config,
/// checkpoint, arguments), 1 for a run that stopped (non-finite loss) or anything unexpected. The full
/// stack trace goes to the run's run.log when there is one, never to the user's terminal.
/// </summary>
public static class Failures
{
    public const int BadInput = 2, Failed = 1;

    public static int Guard(Func<int> action, string? logDirectory = null)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (Classify(e) is { } code)
        {
            Console.Error.WriteLine($"error: {Message(e)}");
            Record(e, logDirectory);
            return code;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: unexpected {e.GetType().Name}: {Message(e)}");
            // Even a bug shows the user one line; the trace goes to the run's log, or to a file of its own.
            var where = Record(e, logDirectory) ?? RecordElsewhere(e);
            Console.Error.WriteLine(where is null ? "(no stack trace could be saved)" : $"(stack trace in {where})");
            return Failed;
        }
    }

    static int? Classify(Exception e) => e switch
    {
        DataFormatException or ConfigException or CheckpointException or NativeLoadException
            or FileNotFoundException or DirectoryNotFoundException or KeyNotFoundException or ArgumentException => BadInput,
        TrainingStoppedException or OperationCanceledException or IOException or UnauthorizedAccessException => Failed,
        _ => null,
    };

    static string Message(Exception e)
    {
        var message = e.Message;
        // ArgumentException appends "(Parameter 'x')", which tells a user nothing.
        int at = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (e is ArgumentException && at > 0) message = message[..at];
        if (e is ArgumentOutOfRangeException && message.Contains("\nActual value was", StringComparison.Ordinal)) message = message[..message.IndexOf('\n')];
        return message.ReplaceLineEndings(" ");
    }

    static string? Record(Exception e, string? directory)
    {
        if (directory is null || !Directory.Exists(directory)) return null;
        var path = Path.Combine(directory, RunLog.TextLogFileName);
        try
        {
            File.AppendAllText(path, $"{DateTime.UtcNow:O} ERROR {e}\n");
            return path;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Without a run folder: the trace goes to a file of its own in the temporary folder.</summary>
    static string? RecordElsewhere(Exception e)
    {
        try
        {
            var path = Path.Combine(Path.GetTempPath(), $"colar-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(path, $"{DateTime.UtcNow:O} ERROR {e}\n");
            return path;
        }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException) { return null; }
    }
}
