namespace Recommender.Hosting.Sql;

/// <summary>
/// A single node cannot use its data directory or SQLite file (not a database, damaged, unwritable, or in use by another
/// node); the message names the path and what to do, and the node does not start.
/// </summary>
public sealed class DataFileException(string message, Exception? innerException = null) : Exception(message, innerException);
