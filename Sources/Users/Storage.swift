import Foundation
import GRDB

/// A registered user (rest-api §7.5). `mode` is the registration mode that created it.
/// Dates are stored with millisecond precision.
public struct UserRecord: Codable, Sendable, Equatable {
    public var id: String
    public var mode: String
    public var createdAt: Date
    public var lastSeenAt: Date?

    public init(id: String, mode: String, createdAt: Date, lastSeenAt: Date? = nil) {
        self.id = id
        self.mode = mode
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }
}

public protocol UserStore: Sendable {
    /// Adds a user; a user with the same id → `StoreError.duplicateUser`.
    func register(_ user: UserRecord) throws
    func user(id: String) throws -> UserRecord?
    /// Sets `lastSeenAt`; does nothing for an unknown id (header/certificate users need not be registered).
    func touch(id: String, at: Date) throws
    func count() throws -> Int
}

/// Server secrets generated on first start (session/encryption secrets when not configured, and the like).
public protocol SecretStore: Sendable {
    func secret(named: String) throws -> [UInt8]?
    /// Inserts or replaces.
    func setSecret(named: String, value: [UInt8]) throws
}

extension SecretStore {
    /// The stored secret, or a fresh random one of `length` bytes that is stored first.
    /// (Not atomic across processes; one server owns its data folder.)
    public func secret(named name: String, generatingBytes length: Int) throws -> [UInt8] {
        if let existing = try secret(named: name), !existing.isEmpty { return existing }
        let fresh = randomBytes(length)
        try setSecret(named: name, value: fresh)
        return fresh
    }
}

public enum StoreError: Error, Equatable, Sendable {
    case duplicateUser(String)
    case cannotCreateDirectory(String)
}

/// A named schema migration. Other modules add theirs through `SQLiteStore(path:migrations:)`; names must be
/// unique and a migration, once shipped, must never change (GRDB records applied names in `grdb_migrations`).
public struct StoreMigration: Sendable {
    public let name: String
    public let body: @Sendable (Database) throws -> Void

    public init(name: String, body: @escaping @Sendable (Database) throws -> Void) {
        self.name = name
        self.body = body
    }

    /// A migration made of SQL statements only (no GRDB import needed by the caller).
    public init(name: String, sql: String) {
        self.init(name: name) { db in try db.execute(sql: sql) }
    }
}

/// SQLite storage (GRDB): a `DatabasePool` in WAL mode for files, a `DatabaseQueue` in memory for tests.
public final class SQLiteStore: UserStore, SecretStore, Sendable {
    /// The writer, for modules that keep their own tables in the same database.
    public let dbWriter: any DatabaseWriter

    /// The migrations of this module, in order.
    public static let baseMigrations: [StoreMigration] = [
        StoreMigration(name: "v1-users", sql: """
            CREATE TABLE users (
                id TEXT NOT NULL PRIMARY KEY,
                mode TEXT NOT NULL,
                createdAt INTEGER NOT NULL,
                lastSeenAt INTEGER
            );
            """),
        StoreMigration(name: "v1-secrets", sql: """
            CREATE TABLE secrets (
                name TEXT NOT NULL PRIMARY KEY,
                value BLOB NOT NULL,
                updatedAt INTEGER NOT NULL
            );
            """),
    ]

    /// The migrator: this module's migrations followed by `extra` (in order).
    public static func migrator(extra: [StoreMigration] = []) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for m in baseMigrations + extra {
            migrator.registerMigration(m.name, migrate: m.body)
        }
        return migrator
    }

    /// Opens (creating it and its parent directory if needed) the database file at `path` and migrates it.
    public init(path: String, migrations extra: [StoreMigration] = []) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw StoreError.cannotCreateDirectory(dir)
        }
        var config = Configuration()
        config.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator(extra: extra).migrate(pool)
        dbWriter = pool
    }

    /// A private in-memory database (tests).
    public init(inMemory: (), migrations extra: [StoreMigration]) throws {
        let queue = try DatabaseQueue()
        try Self.migrator(extra: extra).migrate(queue)
        dbWriter = queue
    }

    /// A private in-memory database with this module's schema only (tests). Cannot fail in practice.
    public convenience init(inMemory: ()) {
        do {
            try self.init(inMemory: (), migrations: [])
        } catch {
            preconditionFailure("in-memory SQLite database: \(error)")
        }
    }

    // MARK: UserStore

    public func register(_ user: UserRecord) throws {
        try dbWriter.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [user.id]) == true {
                throw StoreError.duplicateUser(user.id)
            }
            do {
                try db.execute(
                    sql: "INSERT INTO users (id, mode, createdAt, lastSeenAt) VALUES (?, ?, ?, ?)",
                    arguments: [user.id, user.mode, Self.millis(user.createdAt), user.lastSeenAt.map(Self.millis)])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.duplicateUser(user.id)
            }
        }
    }

    public func user(id: String) throws -> UserRecord? {
        try dbWriter.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT id, mode, createdAt, lastSeenAt FROM users WHERE id = ?", arguments: [id])
            else { return nil }
            let lastSeen: Int64? = row["lastSeenAt"]
            return UserRecord(
                id: row["id"], mode: row["mode"], createdAt: Self.date(row["createdAt"]),
                lastSeenAt: lastSeen.map(Self.date))
        }
    }

    public func touch(id: String, at date: Date) throws {
        try dbWriter.write { db in
            try db.execute(sql: "UPDATE users SET lastSeenAt = ? WHERE id = ?", arguments: [Self.millis(date), id])
        }
    }

    public func count() throws -> Int {
        try dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 }
    }

    // MARK: SecretStore

    public func secret(named name: String) throws -> [UInt8]? {
        try dbWriter.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name]).map { Array($0) }
        }
    }

    public func setSecret(named name: String, value: [UInt8]) throws {
        try dbWriter.write { db in
            try db.execute(
                sql: """
                    INSERT INTO secrets (name, value, updatedAt) VALUES (?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                    """,
                arguments: [name, Data(value), Self.millis(Date())])
        }
    }

    // MARK: dates as Unix milliseconds (portable to PostgreSQL bigint)

    static func millis(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard ms.isFinite else { return 0 }
        return ms >= Double(Int64.max) ? .max : (ms <= Double(Int64.min) ? .min : Int64(ms))
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }
}
