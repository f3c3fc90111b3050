import XCTest
@testable import SFU

/// The NACK schedule towards publishers on a virtual clock: nanoseconds are passed in, nothing sleeps.
final class LossTrackerTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func collect(_ t: inout LossTracker, at now: UInt64) -> [UInt16] {
        var list: [UInt16] = []
        t.collectNacks(nowNanos: now, into: &list)
        return list
    }

    func testGapIsNackedAtOnceThenRetriedEveryRetryInterval() {
        var t = LossTracker()
        XCTAssertEqual(t.record(10, nowNanos: 0), .inOrder)
        XCTAssertEqual(t.record(11, nowNanos: 0), .inOrder)
        XCTAssertEqual(t.record(14, nowNanos: 1 * ms), .gap(count: 2))
        XCTAssertEqual(t.nextDeadlineNanos(), 1 * ms, "a new gap is due at once")
        XCTAssertEqual(collect(&t, at: 1 * ms), [12, 13])
        let retry = t.retryIntervalNanos
        XCTAssertEqual(retry, LossTracker.initialRoundTripNanos * 3 / 2)
        XCTAssertEqual(t.nextDeadlineNanos(), 1 * ms + retry)
        XCTAssertEqual(collect(&t, at: 1 * ms + retry - 1), [], "not before a retry interval")
        XCTAssertEqual(collect(&t, at: 1 * ms + retry), [12, 13])
        XCTAssertEqual(t.record(12, nowNanos: 1 * ms + retry + 1), .repaired)
        XCTAssertEqual(t.retryIntervalNanos, retry, "answered after a repeated NACK: no round-trip sample")
        XCTAssertEqual(collect(&t, at: 1 * ms + 2 * retry), [13])
        XCTAssertEqual(t.repaired, 1)
        XCTAssertTrue(t.isMissing(13))
        XCTAssertFalse(t.isMissing(12))
    }

    func testRoundTripFromNacksAnsweredOnceSetsTheRetryInterval() {
        var t = LossTracker()
        _ = t.record(1, nowNanos: 0)
        _ = t.record(3, nowNanos: 0)
        _ = collect(&t, at: 0)
        XCTAssertEqual(t.record(2, nowNanos: 100 * ms), .repaired)
        XCTAssertEqual(t.roundTripNanos, 100 * ms)
        XCTAssertEqual(t.retryIntervalNanos, 150 * ms)
        // Karn's rule: a packet NACKed twice says nothing about the round trip.
        _ = t.record(5, nowNanos: 200 * ms)
        _ = collect(&t, at: 200 * ms)
        _ = collect(&t, at: 350 * ms)
        XCTAssertEqual(t.record(4, nowNanos: 351 * ms), .repaired)
        XCTAssertEqual(t.roundTripNanos, 100 * ms)
        // Smoothed (gain 1/8), and bounded below: a loopback publisher still gets a few ms to answer.
        _ = t.record(7, nowNanos: 400 * ms)
        _ = collect(&t, at: 400 * ms)
        _ = t.record(6, nowNanos: 420 * ms)
        XCTAssertEqual(t.roundTripNanos, (100 * ms * 7 + 20 * ms) / 8)
        var fast = LossTracker()
        _ = fast.record(1, nowNanos: 0); _ = fast.record(3, nowNanos: 0)
        _ = collect(&fast, at: 0)
        _ = fast.record(2, nowNanos: 1 * ms)
        XCTAssertEqual(fast.retryIntervalNanos, LossTracker.minRetryNanos)
        var slow = LossTracker()
        _ = slow.record(1, nowNanos: 0); _ = slow.record(3, nowNanos: 0)
        _ = collect(&slow, at: 0)
        _ = slow.record(2, nowNanos: 900 * ms)
        XCTAssertEqual(slow.retryIntervalNanos, LossTracker.maxRetryNanos)
    }

    func testPacketIsGivenUpAfterMaxNacksAndTheLastRetryInterval() {
        var t = LossTracker()
        _ = t.record(1, nowNanos: 0); _ = t.record(3, nowNanos: 0)
        var nacks = 0
        var now: UInt64 = 0
        while let due = t.nextDeadlineNanos() {
            now = due
            let list = collect(&t, at: now)
            nacks += list.count
            XCTAssertLessThanOrEqual(nacks, Int(LossTracker.maxNacks))
        }
        XCTAssertEqual(nacks, Int(LossTracker.maxNacks))
        XCTAssertEqual(t.givenUp, 1)
        XCTAssertEqual(now, UInt64(LossTracker.maxNacks) * t.retryIntervalNanos, "the last NACK still had its interval")
        XCTAssertEqual(t.record(2, nowNanos: now + 1), .duplicate, "too late: not forwarded as a repair")
    }

    func testPacketIsGivenUpWhenTooOldWhateverTheRetriesLeft() {
        var t = LossTracker()
        _ = t.record(1, nowNanos: 0); _ = t.record(3, nowNanos: 0)
        _ = collect(&t, at: 0)
        _ = t.record(10, nowNanos: 0)  // another loss, NACKed once with a long measured round trip
        _ = collect(&t, at: 0)
        _ = t.record(2, nowNanos: 900 * ms)  // rtt 900 ms: retries at the 200 ms cap
        var nacks = 0, now: UInt64 = 0
        while let due = t.nextDeadlineNanos() {
            XCTAssertGreaterThan(due, now)
            now = due
            nacks += collect(&t, at: now).count
        }
        XCTAssertEqual(now, LossTracker.maxAgeNanos)
        XCTAssertLessThan(nacks, 6 * Int(LossTracker.maxNacks))
        XCTAssertEqual(t.givenUp, 6, "4...9, at their maximum age")
    }

    func testAKeyframeEndsTheSearchForOlderPackets() {
        var t = LossTracker()
        _ = t.record(100, nowNanos: 0)
        _ = t.record(103, nowNanos: 0)  // 101, 102 missing
        _ = t.record(110, nowNanos: 0)  // 104...109 missing
        t.keyframe(at: 105)
        XCTAssertEqual(t.missing.map(\.sequenceNumber), [105, 106, 107, 108, 109])
        XCTAssertEqual(t.lost, 8)
        XCTAssertEqual(t.skipped, 3)
        XCTAssertEqual(t.givenUp, 0, "nobody needs those packets any more: not a loss that needs a keyframe")
    }

    func testWrapAroundDuplicatesAndHugeJumps() {
        var t = LossTracker()
        _ = t.record(65534, nowNanos: 0)
        XCTAssertEqual(t.record(1, nowNanos: 0), .gap(count: 2))
        XCTAssertEqual(collect(&t, at: 0), [65535, 0])
        XCTAssertEqual(t.record(1, nowNanos: 0), .duplicate, "a duplicate")
        XCTAssertEqual(t.record(60000, nowNanos: 0), .duplicate, "old and never missing: ignored")
        XCTAssertEqual(t.record(0, nowNanos: 0), .repaired)
        XCTAssertEqual(t.record(0, nowNanos: 0), .duplicate, "a second copy is a duplicate")
        XCTAssertEqual(t.record(5000, nowNanos: 0), .reset, "a jump beyond maxGap: a keyframe, not NACKs")
        XCTAssertTrue(t.missing.isEmpty)
        XCTAssertNil(t.nextDeadlineNanos())
        XCTAssertEqual(t.record(5001, nowNanos: 0), .inOrder)
    }

    func testTheListIsBoundedAndOverflowCountsAsGivenUp() {
        var t = LossTracker()
        var s: UInt16 = 0
        _ = t.record(s, nowNanos: 0)
        for _ in 0 ..< 20 {
            s &+= LossTracker.maxGap  // maxGap − 1 new losses each time
            XCTAssertEqual(t.record(s, nowNanos: 0), .gap(count: Int(LossTracker.maxGap) - 1))
        }
        XCTAssertEqual(t.missing.count, LossTracker.capacity)
        XCTAssertEqual(t.givenUp, 20 * (Int(LossTracker.maxGap) - 1) - LossTracker.capacity)
        XCTAssertEqual(t.missing.last?.sequenceNumber, s &- 1, "the newest are kept")
        XCTAssertEqual(collect(&t, at: 0).count, LossTracker.capacity)
    }
}
