import Foundation
import GRDB
import Users

/// The MX API's token state in the server database: ES256 signing keys (so a restart keeps issued tokens valid)
/// and the ids of logged-out tokens until they would have expired anyway.
final class MXTokenStore: Sendable {
    struct SigningKeyRecord: Codable, FetchableRecord, PersistableRecord, Equatable {
        static let databaseTableName = "mx_signing_keys"
        var kid: String
        /// The P-256 private key, raw 32 bytes.
        var privateKey: Data
        /// Unix milliseconds.
        var createdAt: Int64
    }

    private struct RevokedToken: Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "mx_revoked_tokens"
        var jti: String
        var expiresAt: Int64
    }

    static let migrations: [StoreMigration] = [
        StoreMigration(name: "v1-mx-tokens", sql: """
            CREATE TABLE mx_signing_keys (
                kid TEXT NOT NULL PRIMARY KEY,
                privateKey BLOB NOT NULL,
                createdAt INTEGER NOT NULL
            );
            CREATE TABLE mx_revoked_tokens (
                jti TEXT NOT NULL PRIMARY KEY,
                expiresAt INTEGER NOT NULL
            );
            """),
    ]

    private let db: any DatabaseWriter

    init(db: any DatabaseWriter) { self.db = db }

    /// Oldest first.
    func signingKeys() throws -> [SigningKeyRecord] {
        try db.read { db in try SigningKeyRecord.order(Column("createdAt"), Column("kid")).fetchAll(db) }
    }

    func add(_ key: SigningKeyRecord) throws {
        try db.write { db in try key.insert(db) }
    }

    func removeKeys(_ kids: [String]) throws {
        guard !kids.isEmpty else { return }
        _ = try db.write { db in try SigningKeyRecord.deleteAll(db, keys: kids) }
    }

    /// jti → expiry (Unix milliseconds) of tokens that were logged out and have not expired at `now`.
    func revokedTokens(at now: Date) throws -> [String: Int64] {
        try db.read { db in
            let rows = try RevokedToken.filter(Column("expiresAt") > millis(now)).fetchAll(db)
            return Dictionary(rows.map { ($0.jti, $0.expiresAt) }, uniquingKeysWith: max)
        }
    }

    func revoke(jti: String, expiresAt: Date) throws {
        try db.write { db in try RevokedToken(jti: jti, expiresAt: millis(expiresAt)).upsert(db) }
    }

    /// Forgets revocations of tokens that have expired: they are refused by their `exp` anyway.
    func pruneRevoked(before now: Date) throws {
        _ = try db.write { db in try RevokedToken.filter(Column("expiresAt") <= millis(now)).deleteAll(db) }
    }
}

func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
func date(millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
