import Foundation
import SIPDialIn
import Users
import XCTest

final class ConferenceStoreTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("conference-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func open() throws -> ConferenceStore {
        let db = try SQLiteStore(path: directory.appendingPathComponent("rooms.sqlite").path, migrations: ConferenceStore.migrations)
        return ConferenceStore(db: db.dbWriter, schedule: ConferenceSchedule(earlyJoin: 300))
    }

    func sample(id: String = "c1", owner: Int64 = 11, accessId: Int64 = 47_281_964, type: ConferenceType = .once) -> Conference {
        Conference(id: id, ownerId: owner, name: "Planning ünïcode", accessId: accessId, type: type, startDate: 1_516_021_200,
                   duration: 45, waitForOwner: true, delOnOwnerLeave: false, ws: "None", wsType: "Undefined")
    }

    func testRoundTripSurvivesReopeningTheFile() throws {
        let c = sample()
        try open().insert(c)
        let reopened = try open()
        XCTAssertEqual(try reopened.conference(id: "c1"), c)
        XCTAssertEqual(try reopened.conference(accessId: 47_281_964), c)
        XCTAssertNil(try reopened.conference(id: "nope"))
        XCTAssertEqual(try reopened.count(), 1)
    }

    func testAccessIdsAreUniqueOnInsertAndUpdate() throws {
        let store = try open()
        try store.insert(sample(id: "a", accessId: 1234))
        XCTAssertThrowsError(try store.insert(sample(id: "b", accessId: 1234))) { XCTAssertEqual($0 as? ConferenceStoreError, .accessIdTaken(1234)) }
        try store.insert(sample(id: "b", accessId: 5678))
        var b = sample(id: "b", accessId: 1234)
        XCTAssertThrowsError(try store.update(b)) { XCTAssertEqual($0 as? ConferenceStoreError, .accessIdTaken(1234)) }
        XCTAssertThrowsError(try store.insert(sample(id: "a", accessId: 9999))) { XCTAssertEqual($0 as? ConferenceStoreError, .duplicateId("a")) }
        b.accessId = 4321
        b.name = "Renamed"
        try store.update(b)
        XCTAssertEqual(try store.conference(id: "b"), b)
        XCTAssertNil(try store.conference(accessId: 5678), "the old PIN is free again")
    }

    func testUpdateAndDeleteOfUnknownIds() throws {
        let store = try open()
        XCTAssertThrowsError(try store.update(sample(id: "ghost"))) { XCTAssertEqual($0 as? ConferenceStoreError, .notFound("ghost")) }
        try store.insert(sample())
        XCTAssertTrue(try store.delete(id: "c1"))
        XCTAssertFalse(try store.delete(id: "c1"))
        XCTAssertEqual(try store.count(), 0)
    }

    func testListingIsPerOwnerEarliestFirst() throws {
        let store = try open()
        var late = sample(id: "late", owner: 1, accessId: 1001)
        late.startDate += 3600
        try store.insert(late)
        try store.insert(sample(id: "early", owner: 1, accessId: 1002))
        try store.insert(sample(id: "other", owner: 2, accessId: 1003))
        XCTAssertEqual(try store.conferences(ownerId: 1).map(\.id), ["early", "late"])
        XCTAssertEqual(try store.conferences(ownerId: 2).map(\.id), ["other"])
        XCTAssertEqual(try store.conferences(ownerId: 3), [])
    }

    func testDirectoryLooksUpTypedDigits() throws {
        let store = try open()
        let c = sample()
        try store.insert(c)
        let start = Date(timeIntervalSince1970: 1_516_021_200)
        let directory: any ConferenceDirectory = store
        XCTAssertEqual(try directory.lookup(accessId: "47281964", at: start), .open(room: "conf-c1", conference: c))
        XCTAssertEqual(try directory.lookup(accessId: "47281964", at: start.addingTimeInterval(-3600)),
                       .notYetOpen(opensAt: start.addingTimeInterval(-300)))
        XCTAssertEqual(try directory.lookup(accessId: "47281964", at: start.addingTimeInterval(45 * 60)), .ended)
        XCTAssertEqual(try directory.lookup(accessId: "47281965", at: start), .notFound)
        XCTAssertEqual(try directory.lookup(accessId: "047281964", at: start), .notFound)
        XCTAssertEqual(try directory.lookup(accessId: "4728#", at: start), .notFound)
    }

    func testOwnerAccessIdLeadsToTheSameConferenceAndIsUniqueAcrossBothKinds() throws {
        let store = try open()
        var a = sample(id: "a", accessId: 1111)
        a.ownerAccessId = 2222
        try store.insert(a)
        XCTAssertEqual(try store.conference(accessId: 2222), a)
        let start = Date(timeIntervalSince1970: 1_516_021_200)
        XCTAssertEqual(try store.lookup(accessId: "2222", at: start), .open(room: "conf-a", conference: a))
        // Another conference may use neither number, in either role.
        XCTAssertThrowsError(try store.insert(sample(id: "b", accessId: 2222))) { XCTAssertEqual($0 as? ConferenceStoreError, .accessIdTaken(2222)) }
        var b = sample(id: "b", accessId: 3333)
        b.ownerAccessId = 1111
        XCTAssertThrowsError(try store.insert(b)) { XCTAssertEqual($0 as? ConferenceStoreError, .ownerAccessIdTaken(1111)) }
        b.ownerAccessId = 3333
        XCTAssertThrowsError(try store.insert(b)) { XCTAssertEqual($0 as? ConferenceStoreError, .ownerAccessIdTaken(3333)) }
        b.ownerAccessId = nil
        try store.insert(b)
        // Updating a conference with its own numbers is no clash; many conferences without an owner PIN are fine.
        a.name = "Renamed"
        try store.update(a)
        try store.insert(sample(id: "c", accessId: 4444))
        XCTAssertEqual(try store.conference(id: "a")?.ownerAccessId, 2222)
        XCTAssertNil(try store.conference(id: "c")?.ownerAccessId)
    }
}
