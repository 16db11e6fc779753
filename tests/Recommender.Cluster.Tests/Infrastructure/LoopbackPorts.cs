namespace Recommender.Cluster.Tests.Infrastructure;

public static class LoopbackPorts
{
    /// <summary>A loopback port nothing listened on a moment ago, for a test's own listener.</summary>
    public static int Free()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
