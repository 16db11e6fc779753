using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Recommender.Cluster.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven through its ChromeDriver (tests/run.sh installs both: packages chromium and
/// chromium-driver), headless, with a profile of its own and none of the background connections a closed network refuses.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    private readonly string _profile = Directory.CreateTempSubdirectory("recommender-chromium-").FullName;

    public HeadlessChromium()
    {
        var browser = Environment.GetEnvironmentVariable("RECOMMENDER_CHROMIUM") ?? "/usr/bin/chromium";
        var driver = Environment.GetEnvironmentVariable("RECOMMENDER_CHROMEDRIVER") ?? "/usr/bin/chromedriver";
        if (!File.Exists(browser) || !File.Exists(driver))
            Assert.Fail($"Chromium ({browser}) and its ChromeDriver ({driver}) are needed: apt-get install chromium chromium-driver, as tests/run.sh does, "
                + "or set RECOMMENDER_CHROMIUM and RECOMMENDER_CHROMEDRIVER.");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = browser };
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1300,1000", $"--user-data-dir={_profile}");
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    public IWebDriver Driver { get; }

    /// <summary>Waits until <paramref name="read"/> gives a value (not null, not throwing), up to <paramref name="timeout"/> (10 s).</summary>
    public T Until<T>(Func<IWebDriver, T?> read, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        Exception? last = null;
        while (true)
        {
            try
            {
                if (read(Driver) is { } value) return value;
            }
            catch (WebDriverException e)
            {
                last = e;
            }
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Timed out waiting for {what}{(last is null ? "" : $" ({last.Message})")}; the page shows: {Driver.FindElement(By.TagName("body")).Text}");
            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// What the pages wrote to the browser's console at the level of errors since the last call: script errors and
    /// failed loads (an API's 4xx answer is logged so too).
    /// </summary>
    public string[] Errors() =>
        [.. Driver.Manage().Logs.GetLog(LogType.Browser).Where(entry => entry.Level >= LogLevel.Severe).Select(entry => entry.Message)];

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // The browser may still hold a file for a moment; the temporary directory is left.
        }
    }
}
