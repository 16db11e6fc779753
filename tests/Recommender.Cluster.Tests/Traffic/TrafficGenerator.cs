namespace Recommender.Cluster.Tests.Traffic;

/// <summary>Shape of the simulated traffic; the defaults are the mix the cluster tests drive.</summary>
public sealed record TrafficOptions
{
    public int Seed { get; init; } = 2024;

    /// <summary>Distinct events to generate (resends of them come on top).</summary>
    public int Events { get; init; } = 4000;

    public int Users { get; init; } = 240;

    public string UserPrefix { get; init; } = "traffic-user-";

    /// <summary>Exponent s of the Zipf law over item popularity.</summary>
    public double ZipfExponent { get; init; } = 1.1;

    public int MinSessionLength { get; init; } = 3;

    public int MaxSessionLength { get; init; } = 12;

    /// <summary>Sessions in progress at once; their requests are interleaved.</summary>
    public int OpenSessions { get; init; } = 24;

    /// <summary>Share of events held back and sent after later events of the same user.</summary>
    public double OutOfOrderFraction { get; init; } = 0.10;

    /// <summary>Share of events sent a second time with the same event id.</summary>
    public double DuplicateFraction { get; init; } = 0.05;

    /// <summary>Share of session requests that carry a small batch rather than one event.</summary>
    public double BatchFraction { get; init; } = 0.35;

    public int MaxBatch { get; init; } = 5;

    /// <summary>Share of events that repeat the previous event's timestamp (ties keep arrival order).</summary>
    public double TieFraction { get; init; } = 0.04;

    /// <summary>Share of events sent without an event id (the server derives one).</summary>
    public double WithoutIdFraction { get; init; } = 0.10;

    /// <summary>Recommendation reads per generated event.</summary>
    public double ReadsPerEvent { get; init; } = 0.25;

    /// <summary>Share of session requests followed by a batch that names an item outside the catalogue.</summary>
    public double InvalidPostFraction { get; init; } = 0.01;

    public int K { get; init; } = 10;

    /// <summary>Earliest event time; far enough in the past that no timestamp is ahead of the server clock.</summary>
    public DateTimeOffset Start { get; init; } = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
}

/// <summary>
/// Seeded simulated traffic: users arrive in sessions of several events with increasing timestamps, items are drawn
/// from a Zipf law over a shuffled catalogue, requests carry one event or a small batch, recommendation reads are
/// interleaved with the writes, some events are held back and sent late (older timestamps after newer ones), some
/// are resent with the same event id, and a few batches name an unknown item. The same options and items always
/// give the same plan.
/// </summary>
public sealed class TrafficGenerator(TrafficOptions options)
{
    private static readonly (string Type, double Weight)[] Types =
        [("view", 0.55), ("click", 0.2), ("cart", 0.08), ("purchase", 0.05), ("like", 0.07), ("rating", 0.05)];

    public TrafficOptions Options { get; } = options;

    public TrafficPlan Generate(IReadOnlyList<string> items)
    {
        if (items.Count == 0) throw new ArgumentException("The catalogue is empty.", nameof(items));
        var o = Options;
        var random = new Random(o.Seed);
        var byPopularity = items.ToArray();
        random.Shuffle(byPopularity);
        var zipf = new ZipfSampler(byPopularity.Length, o.ZipfExponent);
        var users = Enumerable.Range(0, o.Users).Select(i => $"{o.UserPrefix}{i:D4}").ToArray();
        var clocks = users.ToDictionary(u => u, _ => o.Start + TimeSpan.FromMinutes(random.Next(0, 7 * 24 * 60)));
        var open = new List<Session>();
        var late = new List<(int Due, TrafficEvent Event)>();
        var operations = new List<TrafficOperation>();
        var generated = 0;
        var eventNumber = 0;
        var invalidNumber = 0;
        var readCredit = 0.0;
        var derivedKeys = new HashSet<(string, string, string, DateTimeOffset)>();
        var step = 0;

        while (generated < o.Events || late.Count > 0)
        {
            step++;
            if (generated < o.Events)
            {
                while (open.Count < o.OpenSessions && open.Count < users.Length) open.Add(StartSession());
                var session = open[random.Next(open.Count)];
                var size = random.NextDouble() < o.BatchFraction ? random.Next(2, o.MaxBatch + 1) : 1;
                size = Math.Min(size, Math.Min(session.Remaining, o.Events - generated));
                var batch = new List<TrafficEvent>();
                for (var i = 0; i < size; i++)
                {
                    var e = NextEvent(session);
                    generated++;
                    if (random.NextDouble() < o.DuplicateFraction) late.Add((step + random.Next(1, 80), e));
                    if (random.NextDouble() < o.OutOfOrderFraction) late.Add((step + random.Next(4, 60), e));
                    else batch.Add(e);
                }
                if (session.Remaining == 0) open.Remove(session);
                if (batch.Count > 0) Post(batch, invalid: false);
                readCredit += size * o.ReadsPerEvent;
                if (random.NextDouble() < o.InvalidPostFraction) Post(InvalidBatch(session.User), invalid: true);
            }
            else
            {
                // Only late events remain: move on to the earliest due.
                step = Math.Max(step, late.Min(l => l.Due));
                readCredit += o.ReadsPerEvent;
            }

            foreach (var due in late.Where(l => l.Due <= step).ToList())
            {
                late.Remove(due);
                Post([due.Event], invalid: false);
            }
            for (; readCredit >= 1; readCredit--)
            {
                // Mostly users in the middle of a session; some users chosen at random, who may have no history yet.
                var user = open.Count > 0 && random.NextDouble() < 0.8 ? open[random.Next(open.Count)].User : users[random.Next(users.Length)];
                operations.Add(new RecommendationRead(operations.Count, user, o.K));
            }
        }
        return new TrafficPlan(operations, byPopularity, users);

        Session StartSession()
        {
            var busy = open.Select(s => s.User).ToHashSet();
            string user;
            do user = users[random.Next(users.Length)]; while (busy.Contains(user));
            // The next session starts between half an hour and two days after the user's last event.
            clocks[user] += TimeSpan.FromMinutes(random.Next(30, 2 * 24 * 60));
            return new Session(user, random.Next(o.MinSessionLength, o.MaxSessionLength + 1));
        }

        TrafficEvent NextEvent(Session session)
        {
            session.Remaining--;
            if (!session.Started || random.NextDouble() >= o.TieFraction)
                clocks[session.User] += TimeSpan.FromSeconds(random.Next(5, 600));
            session.Started = true;
            var item = byPopularity[zipf.Next(random)];
            var type = PickType();
            var value = type == "rating" ? random.Next(1, 11) / 2.0 : (double?)null;
            var time = clocks[session.User];
            // Without an id the server derives one from (user, item, type, timestamp): only when that key is new.
            var id = random.NextDouble() < o.WithoutIdFraction && derivedKeys.Add((session.User, item, type, time)) ? null : $"{session.User}-e{eventNumber}";
            eventNumber++;
            return new TrafficEvent(session.User, item, type, time, id, value);
        }

        string PickType()
        {
            var x = random.NextDouble();
            foreach (var (type, weight) in Types)
                if ((x -= weight) < 0) return type;
            return Types[^1].Type;
        }

        List<TrafficEvent> InvalidBatch(string user)
        {
            var number = invalidNumber++;
            var time = clocks[user] + TimeSpan.FromSeconds(1);
            var batch = Enumerable.Range(0, random.Next(1, 4))
                .Select(i => new TrafficEvent(user, byPopularity[zipf.Next(random)], "view", time, $"{user}-invalid-{number}-{i}", null))
                .ToList();
            batch.Insert(random.Next(batch.Count + 1), new TrafficEvent(user, $"not-in-catalogue-{number}", "view", time, $"{user}-invalid-{number}-x", null));
            return batch;
        }

        void Post(List<TrafficEvent> events, bool invalid) =>
            operations.Add(new EventPost(operations.Count, events, invalid, AsObject: events.Count == 1 && random.NextDouble() < 0.5));
    }

    private sealed class Session(string user, int length)
    {
        public string User { get; } = user;

        public int Remaining { get; set; } = length;

        public bool Started { get; set; }
    }
}
