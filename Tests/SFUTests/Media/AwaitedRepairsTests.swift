import XCTest
@testable import SFU

final class AwaitedRepairsTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    func testTakesWhatWasAwaitedOnceAndOnlyWhileLive() {
        var a = AwaitedRepairs(capacity: 4)
        XCTAssertTrue(a.isEmpty)
        XCTAssertFalse(a.take(7, nowNanos: 0))
        a.insert(7, nowNanos: 10)
        a.insert(7, nowNanos: 20)  // asked again: still one entry
        XCTAssertEqual(a.count, 1)
        XCTAssertFalse(a.take(8, nowNanos: 30))
        XCTAssertTrue(a.take(7, nowNanos: 30))
        XCTAssertFalse(a.take(7, nowNanos: 30), "answered once")
        XCTAssertTrue(a.isEmpty)
        a.insert(9, nowNanos: 0)
        XCTAssertFalse(a.take(9, nowNanos: AwaitedRepairs.lifetimeNanos), "expired: the subscriber stopped waiting")
        XCTAssertTrue(a.isEmpty)
    }

    func testExpiredEntriesAreClearedByAnyLookupSoThePacketPathStopsLooking() {
        var a = AwaitedRepairs(capacity: 4)
        a.insert(1, nowNanos: 0)
        a.insert(2, nowNanos: 0)
        XCTAssertFalse(a.take(99, nowNanos: second))
        XCTAssertTrue(a.isEmpty)
    }

    func testAFullSetOverwritesTheOldestRequest() {
        var a = AwaitedRepairs(capacity: 3)
        for (i, s) in [UInt16(10), 11, 12].enumerated() { a.insert(s, nowNanos: UInt64(i)) }
        a.insert(13, nowNanos: 5)
        XCTAssertEqual(a.count, 3)
        XCTAssertFalse(a.take(10, nowNanos: 6), "the oldest made room")
        XCTAssertTrue(a.take(11, nowNanos: 6))
        XCTAssertTrue(a.take(12, nowNanos: 6))
        XCTAssertTrue(a.take(13, nowNanos: 6))
        XCTAssertTrue(a.isEmpty)
    }
}
