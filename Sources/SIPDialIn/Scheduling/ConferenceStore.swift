import Foundation
import GRDB
import Users

public enum ConferenceStoreError: Error, Equatable, Sendable {
    /// Another conference already uses this access id (the PIN must lead to one conference).
    case accessIdTaken(Int64)
    /// The owner access id is in use (as either kind of access id), or equals the conference's own access id.
    case ownerAccessIdTaken(Int64)
    case duplicateId(String)
    case notFound(String)
}

/// Conferences in the server's SQLite database (table `conferences`, added through `migrations`), and the
/// directory the SIP dial-in asks for a PIN.
public final class ConferenceStore: ConferenceDirectory, Sendable {
    private let db: any DatabaseWriter
    public let schedule: ConferenceSchedule

    /// Shipped migrations never change (GRDB records applied names); add new ones at the end.
    public static let migrations: [StoreMigration] = [
        StoreMigration(name: "v1-conferences", sql: """
            CREATE TABLE conferences (
                id TEXT NOT NULL PRIMARY KEY,
                ownerId INTEGER NOT NULL,
                name TEXT NOT NULL,
                accessId INTEGER NOT NULL UNIQUE,
                type TEXT NOT NULL,
                startDate INTEGER NOT NULL,
                duration INTEGER NOT NULL,
                waitForOwner BOOLEAN NOT NULL,
                delOnOwnerLeave BOOLEAN NOT NULL,
                ws TEXT NOT NULL,
                wsType TEXT NOT NULL
            );
            CREATE INDEX conferences_by_owner ON conferences(ownerId);
            """),
        // The owner's own PIN (owner rules). SQLite's UNIQUE allows many NULLs; uniqueness across both columns is
        // checked in the write transaction (`checkAccessIdsFree`).
        StoreMigration(name: "v2-conference-owner-access-id", sql: """
            ALTER TABLE conferences ADD COLUMN ownerAccessId INTEGER;
            CREATE UNIQUE INDEX conferences_by_owner_access_id ON conferences(ownerAccessId);
            """),
    ]

    /// `db`: a writer whose schema includes `migrations` (e.g. `SQLiteStore(path:migrations:).dbWriter`).
    public init(db: any DatabaseWriter, schedule: ConferenceSchedule = ConferenceSchedule()) {
        self.db = db
        self.schedule = schedule
    }

    public func insert(_ conference: Conference) throws {
        try translatingConstraints(conference) {
            try db.write { db in
                try Self.checkAccessIdsFree(conference, db)
                try ConferenceRow(conference).insert(db)
            }
        }
    }

    /// Replaces the stored conference with the same Id.
    public func update(_ conference: Conference) throws {
        do {
            try translatingConstraints(conference) {
                try db.write { db in
                    try Self.checkAccessIdsFree(conference, db)
                    try ConferenceRow(conference).update(db)
                }
            }
        } catch let error as RecordError {
            guard case .recordNotFound = error else { throw error }
            throw ConferenceStoreError.notFound(conference.id)
        }
    }

    /// True when a conference was deleted.
    @discardableResult
    public func delete(id: String) throws -> Bool {
        try db.write { db in try ConferenceRow.deleteOne(db, key: id) }
    }

    public func conference(id: String) throws -> Conference? {
        try db.read { db in try ConferenceRow.fetchOne(db, key: id)?.conference }
    }

    /// The conference whose access id, or owner access id, this is.
    public func conference(accessId: Int64) throws -> Conference? {
        try db.read { db in
            try ConferenceRow.filter(Column("accessId") == accessId || Column("ownerAccessId") == accessId).fetchOne(db)?.conference
        }
    }

    /// A PIN leads to one conference: neither of `conference`'s access ids may be either access id of another one.
    private static func checkAccessIdsFree(_ conference: Conference, _ db: Database) throws {
        let ids = [conference.accessId] + (conference.ownerAccessId.map { [$0] } ?? [])
        if Set(ids).count < ids.count { throw ConferenceStoreError.ownerAccessIdTaken(conference.ownerAccessId ?? 0) }
        for id in ids {
            let clash = try ConferenceRow.filter(Column("id") != conference.id)
                .filter(Column("accessId") == id || Column("ownerAccessId") == id).fetchCount(db)
            if clash > 0 {
                throw id == conference.accessId ? ConferenceStoreError.accessIdTaken(id) : ConferenceStoreError.ownerAccessIdTaken(id)
            }
        }
    }

    /// A user's conferences, earliest start first.
    public func conferences(ownerId: Int64) throws -> [Conference] {
        try db.read { db in
            try ConferenceRow.filter(Column("ownerId") == ownerId).order(Column("startDate"), Column("id")).fetchAll(db).compactMap(\.conference)
        }
    }

    public func count() throws -> Int {
        try db.read { db in try ConferenceRow.fetchCount(db) }
    }

    // MARK: ConferenceDirectory

    public func lookup(accessId: String, at date: Date) throws -> ConferenceLookup {
        guard let pin = Conference.accessId(fromDigits: accessId), let conference = try conference(accessId: pin) else {
            return .notFound
        }
        return schedule.lookup(conference, at: date)
    }

    // MARK: rows

    private func translatingConstraints(_ conference: Conference, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            if error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY { throw ConferenceStoreError.duplicateId(conference.id) }
            throw ConferenceStoreError.accessIdTaken(conference.accessId)
        }
    }

    /// The table's row; kept apart from `Conference` so the model stays free of GRDB.
    private struct ConferenceRow: Codable, FetchableRecord, PersistableRecord {
        static let databaseTableName = "conferences"
        var id: String
        var ownerId: Int64
        var name: String
        var accessId: Int64
        var type: String
        var startDate: Int64
        var duration: Int
        var waitForOwner: Bool
        var delOnOwnerLeave: Bool
        var ownerAccessId: Int64?
        var ws: String
        var wsType: String

        init(_ c: Conference) {
            id = c.id; ownerId = c.ownerId; name = c.name; accessId = c.accessId; type = c.type.rawValue
            startDate = c.startDate; duration = c.duration; waitForOwner = c.waitForOwner
            delOnOwnerLeave = c.delOnOwnerLeave; ownerAccessId = c.ownerAccessId; ws = c.ws; wsType = c.wsType
        }

        /// nil for a row whose type this version does not know (written by a newer server): skipped, not fatal.
        var conference: Conference? {
            guard let t = ConferenceType(rawValue: type) else { return nil }
            return Conference(id: id, ownerId: ownerId, name: name, accessId: accessId, type: t, startDate: startDate,
                              duration: duration, waitForOwner: waitForOwner, delOnOwnerLeave: delOnOwnerLeave,
                              ownerAccessId: ownerAccessId, ws: ws, wsType: wsType)
        }
    }
}
