import Foundation
import GRDB
import XCTest
@testable import Users

final class SQLiteStoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("users-tests-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testRegisterReadDuplicateInMemory() throws {
        let store = SQLiteStore(inMemory: ())
        let alice = UserRecord(id: "alice@rooms", mode: "sharedsecret", createdAt: Date(timeIntervalSince1970: 1_700_000_000))
        XCTAssertEqual(try store.count(), 0)
        XCTAssertNil(try store.user(id: "alice@rooms"))
        try store.register(alice)
        XCTAssertEqual(try store.user(id: "alice@rooms"), alice)
        XCTAssertEqual(try store.count(), 1)

        XCTAssertThrowsError(try store.register(alice)) { error in
            XCTAssertEqual(error as? StoreError, .duplicateUser("alice@rooms"))
        }
        XCTAssertEqual(try store.count(), 1)

        try store.touch(id: "alice@rooms", at: Date(timeIntervalSince1970: 1_700_000_123.456))
        let touched = try XCTUnwrap(store.user(id: "alice@rooms"))
        XCTAssertEqual(touched.lastSeenAt!.timeIntervalSince1970, 1_700_000_123.456, accuracy: 0.0005)
        try store.touch(id: "nobody", at: Date())  // no-op
        XCTAssertEqual(try store.count(), 1)
    }

    func testFilePersistsAcrossReopen() throws {
        let path = dir.appendingPathComponent("nested/dir/rooms.sqlite").path
        let bob = UserRecord(id: "bob", mode: "certificate", createdAt: Date(timeIntervalSince1970: 1_600_000_000),
                             lastSeenAt: Date(timeIntervalSince1970: 1_650_000_000))
        do {
            let store = try SQLiteStore(path: path)
            try store.register(bob)
            try store.setSecret(named: "sessionSecret", value: Array(0..<64))
            XCTAssertThrowsError(try store.register(bob))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        let reopened = try SQLiteStore(path: path)
        XCTAssertEqual(try reopened.user(id: "bob"), bob)
        XCTAssertEqual(try reopened.count(), 1)
        XCTAssertEqual(try reopened.secret(named: "sessionSecret"), Array(0..<64))
        // WAL mode on the pool.
        let mode = try reopened.dbWriter.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode?.lowercased(), "wal")
        XCTAssertThrowsError(try reopened.register(bob)) { XCTAssertEqual($0 as? StoreError, .duplicateUser("bob")) }
    }

    func testSecretsRoundTrip() throws {
        let store = SQLiteStore(inMemory: ())
        XCTAssertNil(try store.secret(named: "x"))
        try store.setSecret(named: "x", value: [1, 2, 3])
        XCTAssertEqual(try store.secret(named: "x"), [1, 2, 3])
        try store.setSecret(named: "x", value: [])
        XCTAssertEqual(try store.secret(named: "x"), [])
        try store.setSecret(named: "x", value: [0, 255])
        XCTAssertEqual(try store.secret(named: "x"), [0, 255])
        XCTAssertNil(try store.secret(named: "y"))
    }

    func testGeneratedSecretSurvivesReopen() throws {
        let path = dir.appendingPathComponent("rooms.sqlite").path
        let first = try SQLiteStore(path: path).secret(named: "encryptionSecret", generatingBytes: 32)
        XCTAssertEqual(first.count, 32)
        let again = try SQLiteStore(path: path).secret(named: "encryptionSecret", generatingBytes: 32)
        XCTAssertEqual(first, again)
    }

    func testExtraMigrations() throws {
        let path = dir.appendingPathComponent("rooms.sqlite").path
        let extra = [
            StoreMigration(name: "v1-conferences", sql: "CREATE TABLE conferences (id TEXT PRIMARY KEY, name TEXT NOT NULL)"),
            StoreMigration(name: "v1-conferences-seed") { db in
                try db.execute(sql: "INSERT INTO conferences (id, name) VALUES ('c1', 'Daily')")
            },
        ]
        do {
            let store = try SQLiteStore(path: path, migrations: extra)
            try store.register(UserRecord(id: "u", mode: "httpheader", createdAt: Date(timeIntervalSince1970: 0)))
        }
        // Reopening runs nothing twice.
        let store = try SQLiteStore(path: path, migrations: extra)
        let names = try store.dbWriter.read { db in try String.fetchAll(db, sql: "SELECT name FROM conferences") }
        XCTAssertEqual(names, ["Daily"])
        let applied = try store.dbWriter.read { db in try SQLiteStore.migrator(extra: extra).appliedMigrations(db) }
        XCTAssertEqual(applied, ["v1-users", "v1-secrets", "v1-conferences", "v1-conferences-seed"])
        XCTAssertEqual(try store.count(), 1)

        let memory = try SQLiteStore(inMemory: (), migrations: extra)
        XCTAssertEqual(try memory.dbWriter.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conferences") }, 1)
    }

    func testUnwritableDirectory() {
        XCTAssertThrowsError(try SQLiteStore(path: "/proc/self/nope/rooms.sqlite"))
    }

    func testConcurrentUse() throws {
        let store = try SQLiteStore(path: dir.appendingPathComponent("c.sqlite").path)
        DispatchQueue.concurrentPerform(iterations: 50) { i in
            try? store.register(UserRecord(id: "u\(i % 25)", mode: "sharedsecret", createdAt: Date()))
            _ = try? store.user(id: "u\(i)")
        }
        XCTAssertEqual(try store.count(), 25)
    }
}
