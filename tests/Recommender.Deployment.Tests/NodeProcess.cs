using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Recommender.Deployment.Tests;

/// <summary>
/// One silo or API front end running as its own operating-system process (`dotnet X.dll`), with its
/// output in a log file. Supports the two ways a node ends in production: SIGTERM (graceful) and
/// SIGKILL (crash).
/// </summary>
public sealed partial class NodeProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private readonly Process _process;
    private readonly StreamWriter _log;

    private NodeProcess(string name, int httpPort, Process process, StreamWriter log, string logPath)
    {
        Name = name;
        HttpPort = httpPort;
        _process = process;
        _log = log;
        LogPath = logPath;
    }

    public string Name { get; }

    public int HttpPort { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}");

    /// <summary>
    /// A single node (the front end with its embedded silo, on SQLite), by default with an empty catalogue and no model, its data in
    /// <paramref name="dataDirectory"/>, its own free ports, and <paramref name="settings"/> added to its environment (over those).
    /// </summary>
    public static NodeProcess StartSingleNode(string name, string dataDirectory, string logDirectory, IReadOnlyDictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["Recommender__DataDirectory"] = dataDirectory,
            ["Recommender__SeedDemo"] = "false",
            ["Orleans__SiloPort"] = FreePorts.Next().ToString(),
            ["Orleans__GatewayPort"] = FreePorts.Next().ToString(),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        return Start(name, RepositoryPaths.ProjectOutput("Recommender.Api"), FreePorts.Next(), environment, logDirectory);
    }

    public static NodeProcess Start(string name, string assembly, int httpPort, IReadOnlyDictionary<string, string> environment, string logDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = logDirectory,
        };
        start.ArgumentList.Add(assembly);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{httpPort}";
        start.Environment["DOTNET_gcServer"] = "0";
        start.Environment["Logging__LogLevel__Polly"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Extensions.Diagnostics.HealthChecks"] = "Critical";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }
        var logPath = Path.Combine(logDirectory, name + ".log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Live.Add(process);
        return new NodeProcess(name, httpPort, process, log, logPath);
    }

    /// <summary>Waits until /health/ready (or <paramref name="probe"/>) answers 200, failing early (with the log) if the process exits.</summary>
    public async Task WaitReadyAsync(HttpClient http, TimeSpan timeout, string probe = "/health/ready")
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before becoming ready:\n{Tail()}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, probe));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{Name} not ready after {timeout.TotalSeconds:0} s:\n{Tail()}");
    }

    /// <summary>Waits for the process to end by itself and returns its exit code (a timeout kills it and throws).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await WaitOrKillAsync(timeout, () => $"{Name} did not exit within {timeout.TotalSeconds:0} s:\n{Tail()}");
        // The output is read asynchronously: wait for its end, so that the log holds the last lines.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>A crash: SIGKILL, no chance to leave the cluster.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>A graceful stop: SIGTERM, then wait for the process to finish its shutdown.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }
        _ = Kill(_process.Id, SigTerm);
        await WaitOrKillAsync(timeout, () => $"{Name} did not stop within {timeout.TotalSeconds:0} s of SIGTERM.");
    }

    /// <summary>Waits for the process to end; past <paramref name="timeout"/> it is killed and a <see cref="TimeoutException"/> says so.</summary>
    private async Task WaitOrKillAsync(TimeSpan timeout, Func<string> late)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException(late());
        }
    }

    /// <summary>The distinct lines that follow lines containing <paramref name="marker"/> in the log (the exceptions logged with them).</summary>
    public IReadOnlyList<string> LinesAfter(string marker, int limit = 5)
    {
        using var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var found = new List<string>();
        var previousMatched = false;
        while (reader.ReadLine() is { } line && found.Count < limit)
        {
            if (previousMatched && !found.Contains(line.Trim())) found.Add(line.Trim());
            previousMatched = line.Contains(marker, StringComparison.Ordinal);
        }
        return found;
    }

    /// <summary>The node's log lines once <paramref name="condition"/> holds for them (within 30 s).</summary>
    public async Task<string[]> WaitForLogAsync(Func<string[], bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // The node's output is copied to the file as it comes: a line caught half written is read whole next time.
            string[] lines;
            using (var reader = new StreamReader(new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)))
                lines = (await reader.ReadToEndAsync()).Split('\n');
            if (condition(lines)) return lines;
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"The log of {Name} did not show what was waited for within 30 s:\n{string.Join('\n', lines.TakeLast(40))}");
            await Task.Delay(200);
        }
    }

    public string Tail(int lines = 40)
    {
        var all = File.ReadAllLines(LogPath);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(20));
            }
            catch (TimeoutException)
            {
            }
        }
        Live.Remove(_process);
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    /// <summary>Processes still running when the test process exits are killed, so none outlive a test run.</summary>
    private static readonly LiveProcesses Live = new();

    private sealed class LiveProcesses
    {
        private readonly HashSet<Process> _processes = [];

        public LiveProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

        public void Add(Process process)
        {
            lock (_processes) _processes.Add(process);
        }

        public void Remove(Process process)
        {
            lock (_processes) _processes.Remove(process);
        }

        private void KillAll()
        {
            lock (_processes)
            {
                foreach (var process in _processes.Where(p => !p.HasExited))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
