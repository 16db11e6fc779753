using System.Net;
using System.Net.Sockets;

namespace Recommender.Deployment.Tests;

/// <summary>
/// Hands out loopback TCP ports that are free now and not handed out before in this run. They come
/// from below Linux's ephemeral range (32768+), so an outgoing connection cannot take a port while a
/// restarted node is about to bind it again.
/// </summary>
public static class FreePorts
{
    private const int First = 20000;
    private const int Last = 32767;
    private static readonly HashSet<int> Given = [];

    public static int Next()
    {
        lock (Given)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(First, Last + 1);
                if (!Given.Contains(port) && IsFree(port))
                {
                    Given.Add(port);
                    return port;
                }
            }
            throw new InvalidOperationException($"No free loopback port between {First} and {Last}.");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
