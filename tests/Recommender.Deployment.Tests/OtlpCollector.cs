using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Recommender.Deployment.Tests;

/// <summary>A span as received: ids in lower-case hex, as in a traceparent header.</summary>
public sealed record ReceivedSpan(string Service, string Instance, string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes)
{
    public const int Server = 2;
    public const int Client = 3;
}

/// <summary>The W3C trace context a test sends as the caller of a request: a new trace, and the caller's span in it.</summary>
public readonly record struct CallerTrace(string TraceId, string SpanId)
{
    public static CallerTrace New() => new(ActivityTraceId.CreateRandom().ToHexString(), ActivitySpanId.CreateRandom().ToHexString());

    /// <summary>A request that carries this context as sampled (a traceparent header with flags 01).</summary>
    public HttpRequestMessage Request(HttpMethod method, Uri uri, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add("traceparent", $"00-{TraceId}-{SpanId}-01");
        return request;
    }
}

public sealed record ReceivedLog(string Service, string Body, string TraceId, int Severity);

public sealed record ReceivedMetric(string Service, string Scope, string Name);

/// <summary>
/// An OpenTelemetry collector for tests, on loopback: OTLP over HTTP with protobuf bodies (/v1/traces, /v1/metrics,
/// /v1/logs) on one port, OTLP over gRPC (HTTP/2 without TLS) on another. It keeps what it receives, decoded as far as
/// the tests read it: spans, log records and metric names, each with the service.name of the process that sent it.
/// </summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<ReceivedLog> _logs = new();
    private readonly ConcurrentQueue<ReceivedMetric> _metrics = new();

    private OtlpCollector(int httpPort, int grpcPort, (string Name, string Value)? requiredHeader)
    {
        HttpEndpoint = new Uri($"http://127.0.0.1:{httpPort}");
        GrpcEndpoint = new Uri($"http://127.0.0.1:{grpcPort}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenLocalhost(httpPort, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.ListenLocalhost(grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        _app = builder.Build();
        bool Authorised(HttpContext context) =>
            requiredHeader is not { } header || context.Request.Headers[header.Name] == header.Value;
        _app.MapPost("/v1/{signal}", async (string signal, HttpContext context) =>
        {
            if (!Authorised(context)) return Results.Unauthorized();
            var body = await ReadBodyAsync(context.Request);
            if (!Receive(signal, body)) return Results.NotFound();
            return Results.Bytes([], "application/x-protobuf");
        });
        _app.MapPost("/opentelemetry.proto.collector.{signal}.v1.{service}/Export", async (string signal, HttpContext context) =>
        {
            context.Response.ContentType = "application/grpc";
            if (!Authorised(context))
            {
                context.Response.AppendTrailer("grpc-status", "16"); // UNAUTHENTICATED
                return;
            }
            var message = await ReadBodyAsync(context.Request);
            // A gRPC message: a compression flag, a big-endian length, then the protobuf bytes.
            if (message.Length < 5 || message[0] != 0 || BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(1)) != message.Length - 5)
                throw new InvalidDataException("Not one uncompressed gRPC message.");
            // The gRPC services are named after "trace", "metrics" and "logs"; the HTTP paths after "traces".
            if (!Receive(signal == "trace" ? "traces" : signal, message[5..]))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.Body.WriteAsync(new byte[5]); // an empty Export...ServiceResponse
        });
    }

    public Uri HttpEndpoint { get; }

    public Uri GrpcEndpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public IReadOnlyCollection<ReceivedLog> Logs => _logs;

    public IReadOnlyCollection<ReceivedMetric> Metrics => _metrics;

    /// <param name="requiredHeader">A header every export must carry (a collector's API key); one without it is refused.</param>
    public static async Task<OtlpCollector> StartAsync((string Name, string Value)? requiredHeader = null)
    {
        var collector = new OtlpCollector(FreePorts.Next(), FreePorts.Next(), requiredHeader);
        await collector._app.StartAsync();
        return collector;
    }

    /// <summary>
    /// The spans of the trace that <paramref name="caller"/> began, once they form one tree under a
    /// single span whose parent is the caller's (each process exports in its own batches, so spans arrive in any order)
    /// and <paramref name="complete"/> holds for them.
    /// </summary>
    public async Task<IReadOnlyList<ReceivedSpan>> WaitForTraceAsync(CallerTrace caller, Func<IReadOnlyList<ReceivedSpan>, bool> complete, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var spans = _spans.Where(s => s.TraceId == caller.TraceId).ToList();
            var ids = spans.Select(s => s.SpanId).Append(caller.SpanId).ToHashSet();
            if (spans.Count(s => s.ParentSpanId == caller.SpanId) == 1 && spans.All(s => ids.Contains(s.ParentSpanId)) && complete(spans)) return spans;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Trace {caller.TraceId} is not one complete tree under {caller.SpanId} after {timeout.TotalSeconds:0} s; received:\n"
                    + string.Join("\n", spans.Select(s => $"  {s.Service} {s.Instance} {s.Scope} '{s.Name}' kind {s.Kind} {s.SpanId} <- {s.ParentSpanId}")));
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds for what has been received.</summary>
    public async Task WaitUntilAsync(Func<OtlpCollector, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition(this))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Not received within {timeout.TotalSeconds:0} s: {what}. Services heard from: "
                    + string.Join(", ", _spans.Select(s => s.Service).Concat(_logs.Select(l => l.Service)).Concat(_metrics.Select(m => m.Service)).Distinct()));
            await Task.Delay(200);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private bool Receive(string signal, byte[] request)
    {
        switch (signal)
        {
            case "traces":
                foreach (var resource in Resources(request, 1))
                    foreach (var (service, scope, span) in Scoped(resource.Body, resource.Service))
                        _spans.Enqueue(ReadSpan(service, resource.Instance, scope, span));
                return true;
            case "logs":
                foreach (var (service, _, record) in Resources(request, 1).SelectMany(r => Scoped(r.Body, r.Service)))
                    _logs.Enqueue(ReadLog(service, record));
                return true;
            case "metrics":
                foreach (var (service, scope, metric) in Resources(request, 1).SelectMany(r => Scoped(r.Body, r.Service)))
                    _metrics.Enqueue(new ReceivedMetric(service, scope, Proto.Fields(metric).Where(f => f.Number == 1).Select(f => f.Text).Single()));
                return true;
            default:
                return false;
        }
    }

    // Every export request of the three signals has one shape: repeated Resource{Signal} (field 1), each a Resource
    // (field 1) and repeated Scope{Signal} (field 2), each an InstrumentationScope (field 1) and its repeated items (field 2).
    private static IEnumerable<(string Service, string Instance, byte[] Body)> Resources(byte[] request, int field) =>
        Proto.Fields(request).Where(f => f.Number == field).Select(resource =>
        {
            var attributes = Proto.Fields(resource.Bytes).Where(f => f.Number == 1).SelectMany(r => Attributes(Proto.Fields(r.Bytes), 1)).ToList();
            return (attributes.FirstOrDefault(a => a.Key == "service.name").Value ?? "",
                attributes.FirstOrDefault(a => a.Key == "service.instance.id").Value ?? "", resource.Bytes);
        });

    private static IEnumerable<(string Service, string Scope, byte[] Item)> Scoped(byte[] resource, string service) =>
        Proto.Fields(resource).Where(f => f.Number == 2).SelectMany(scoped =>
        {
            var fields = Proto.Fields(scoped.Bytes);
            var scope = fields.Where(f => f.Number == 1).Select(f => Proto.Fields(f.Bytes).Where(s => s.Number == 1).Select(s => s.Text).FirstOrDefault() ?? "")
                .FirstOrDefault() ?? "";
            return fields.Where(f => f.Number == 2).Select(item => (service, scope, item.Bytes));
        });

    private static ReceivedSpan ReadSpan(string service, string instance, string scope, byte[] span)
    {
        var fields = Proto.Fields(span);
        string Hex(int number) => fields.Where(f => f.Number == number).Select(f => Convert.ToHexStringLower(f.Bytes)).FirstOrDefault() ?? "";
        return new ReceivedSpan(service, instance, scope, Hex(1), Hex(2), Hex(4),
            fields.Where(f => f.Number == 5).Select(f => f.Text).FirstOrDefault() ?? "",
            fields.Where(f => f.Number == 6).Select(f => (int)f.Varint).FirstOrDefault(),
            Attributes(fields, 9).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value));
    }

    private static ReceivedLog ReadLog(string service, byte[] record)
    {
        var fields = Proto.Fields(record);
        return new ReceivedLog(service,
            fields.Where(f => f.Number == 5).Select(f => AnyValue(f.Bytes)).FirstOrDefault() ?? "",
            fields.Where(f => f.Number == 9).Select(f => Convert.ToHexStringLower(f.Bytes)).FirstOrDefault() ?? "",
            fields.Where(f => f.Number == 2).Select(f => (int)f.Varint).FirstOrDefault());
    }

    /// <summary>KeyValue messages (key 1, AnyValue 2) in field <paramref name="field"/>.</summary>
    private static IEnumerable<(string Key, string Value)> Attributes(IEnumerable<Proto.Field> fields, int field) =>
        fields.Where(f => f.Number == field).Select(kv =>
        {
            var parts = Proto.Fields(kv.Bytes);
            return (parts.Where(p => p.Number == 1).Select(p => p.Text).FirstOrDefault() ?? "",
                parts.Where(p => p.Number == 2).Select(p => AnyValue(p.Bytes)).FirstOrDefault() ?? "");
        });

    /// <summary>An AnyValue as text: a string (1), bool (2) or integer (3); other kinds as empty.</summary>
    private static string AnyValue(byte[] value)
    {
        foreach (var f in Proto.Fields(value))
        {
            switch (f.Number)
            {
                case 1: return f.Text;
                case 2: return f.Varint != 0 ? "true" : "false";
                case 3: return ((long)f.Varint).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return "";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The protobuf wire format, read field by field without a schema.</summary>
    private static class Proto
    {
        public readonly record struct Field(int Number, ulong Varint, byte[] Bytes)
        {
            public string Text => Encoding.UTF8.GetString(Bytes);
        }

        public static List<Field> Fields(byte[] message)
        {
            var fields = new List<Field>();
            var position = 0;
            while (position < message.Length)
            {
                var key = ReadVarint(message, ref position);
                var number = (int)(key >> 3);
                switch ((int)(key & 7))
                {
                    case 0:
                        fields.Add(new Field(number, ReadVarint(message, ref position), []));
                        break;
                    case 1:
                        fields.Add(new Field(number, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(position, 8)), []));
                        position += 8;
                        break;
                    case 2:
                        var length = checked((int)ReadVarint(message, ref position));
                        fields.Add(new Field(number, 0, message.AsSpan(position, length).ToArray()));
                        position += length;
                        break;
                    case 5:
                        fields.Add(new Field(number, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(position, 4)), []));
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Wire type {key & 7} of field {number} is not one OTLP uses.");
                }
            }
            return fields;
        }

        private static ulong ReadVarint(byte[] message, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[position++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80) return value;
            }
        }
    }
}
