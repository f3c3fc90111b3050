import XCTest
@testable import SFU

final class LossTrackerTests: XCTestCase {
    func testGapIsNackedThenRecovered() {
        var t = LossTracker()
        for s: UInt16 in [10, 11, 14] { XCTAssertFalse(t.record(s)) }
        XCTAssertEqual(t.takeNackList(), [12, 13])
        XCTAssertTrue(t.record(12), "a late packet fills its gap")
        XCTAssertEqual(t.takeNackList(), [13])
    }

    func testEachSequenceNumberIsNackedAtMostThreeTimes() {
        var t = LossTracker()
        _ = t.record(1); _ = t.record(3)
        XCTAssertEqual(t.takeNackList(), [2])
        XCTAssertEqual(t.takeNackList(), [2])
        XCTAssertEqual(t.takeNackList(), [2])
        XCTAssertEqual(t.givenUp, 0, "the third retransmission still has a round to arrive")
        XCTAssertEqual(t.takeNackList(), [])
        XCTAssertEqual(t.givenUp, 1)
    }

    func testARetransmissionAnsweringTheLastNackIsStillCounted() {
        var t = LossTracker()
        _ = t.record(1); _ = t.record(3)
        for _ in 0 ..< 3 { _ = t.takeNackList() }
        XCTAssertTrue(t.record(2))
        XCTAssertEqual(t.takeNackList(), [])
        XCTAssertEqual(t.givenUp, 0)
    }

    func testWrapAroundAndHugeJumps() {
        var t = LossTracker()
        _ = t.record(65534); _ = t.record(1)
        XCTAssertEqual(t.takeNackList(), [65535, 0])
        var u = LossTracker()
        _ = u.record(100); _ = u.record(5000)
        XCTAssertEqual(u.takeNackList(), [], "a jump beyond maxGap is a restart, not loss")
        XCTAssertFalse(u.record(5000), "duplicates are ignored")
    }

    func testCapacityIsBounded() {
        var t = LossTracker()
        var s: UInt16 = 0
        _ = t.record(s)
        for _ in 0..<20 { s &+= 99; _ = t.record(s) }
        XCTAssertLessThanOrEqual(t.takeNackList().count, LossTracker.capacity)
    }
}
