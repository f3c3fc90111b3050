@testable import SIPDialIn
import XCTest

final class JitterBufferTests: XCTestCase {
    private func insert(_ buffer: inout JitterBuffer, _ sequence: UInt16) {
        let payload: [UInt8] = [UInt8(truncatingIfNeeded: sequence)]
        payload.withUnsafeBytes { buffer.insert(sequence: sequence, payload: $0) }
    }

    /// What playOut gives: the payload's first byte, "lost" or "silent".
    private func next(_ buffer: inout JitterBuffer) -> String {
        buffer.playOut { playout in
            switch playout {
            case .packet(let p): return String(p[0])
            case .lost: return "lost"
            case .silent: return "silent"
            }
        }
    }

    func testWaitsForTargetThenPlaysInOrder() {
        var buffer = JitterBuffer(target: 2)
        insert(&buffer, 11)
        XCTAssertEqual(next(&buffer), "silent")
        insert(&buffer, 10) // reordered
        // 10 arrived after 11 but before playout started: the buffer begins at 11 (the first seen) — 10 is late.
        XCTAssertEqual(buffer.late, 1)
        insert(&buffer, 12)
        XCTAssertEqual(next(&buffer), "11")
        XCTAssertEqual(next(&buffer), "12")
    }

    func testReorderedPacketsComeOutSorted() {
        var buffer = JitterBuffer(target: 3)
        for s: UInt16 in [100, 102, 101, 103] { insert(&buffer, s) }
        XCTAssertEqual((0 ..< 4).map { _ in next(&buffer) }, ["100", "101", "102", "103"])
    }

    func testGapIsConcealedWhenLaterPacketsWait() {
        var buffer = JitterBuffer(target: 2)
        for s: UInt16 in [1, 3, 4] { insert(&buffer, s) }
        XCTAssertEqual((0 ..< 4).map { _ in next(&buffer) }, ["1", "lost", "3", "4"])
        XCTAssertEqual(buffer.concealed, 1)
    }

    func testUnderrunRebuffers() {
        var buffer = JitterBuffer(target: 2)
        for s: UInt16 in [1, 2] { insert(&buffer, s) }
        XCTAssertEqual(next(&buffer), "1")
        XCTAssertEqual(next(&buffer), "2")
        XCTAssertEqual(next(&buffer), "silent")
        insert(&buffer, 3)
        XCTAssertEqual(next(&buffer), "silent", "one packet is below the target again")
        insert(&buffer, 4)
        XCTAssertEqual(next(&buffer), "3")
    }

    func testDuplicatesAndLatePacketsAreDropped() {
        var buffer = JitterBuffer(target: 1)
        insert(&buffer, 5); insert(&buffer, 5)
        XCTAssertEqual(next(&buffer), "5")
        XCTAssertEqual(next(&buffer), "silent")
        insert(&buffer, 4)
        XCTAssertEqual(buffer.late, 1)
    }

    func testSequenceWrapAndRestart() {
        var buffer = JitterBuffer(target: 1)
        for s: UInt16 in [65534, 65535, 0, 1] { insert(&buffer, s) }
        XCTAssertEqual((0 ..< 4).map { _ in next(&buffer) }, ["254", "255", "0", "1"])
        // The sender restarts far away: the buffer follows instead of concealing thousands of packets.
        insert(&buffer, 30000)
        XCTAssertEqual(next(&buffer), String(UInt8(truncatingIfNeeded: 30000)))
    }

    func testSenderRestartingLowerIsFollowedAfterAFewPackets() {
        var buffer = JitterBuffer(target: 1)
        for s: UInt16 in 11905 ..< 11910 { insert(&buffer, s) }
        XCTAssertEqual(next(&buffer), String(UInt8(truncatingIfNeeded: 11905)))
        // A new stream numbered lower (a phone resuming from hold): one very late packet is dropped as late, but a
        // run of them restarts the buffer instead of dropping the phone's voice for good.
        insert(&buffer, 9107)
        insert(&buffer, 9108)
        XCTAssertEqual(buffer.late, 2)
        insert(&buffer, 9109)
        insert(&buffer, 9110)
        XCTAssertEqual(buffer.late, 2)
        XCTAssertEqual(next(&buffer), String(UInt8(truncatingIfNeeded: 9109)))
        XCTAssertEqual(next(&buffer), String(UInt8(truncatingIfNeeded: 9110)))
    }

    func testAnIsolatedVeryLatePacketDoesNotRestart() {
        var buffer = JitterBuffer(target: 1)
        for s: UInt16 in 100 ..< 105 { insert(&buffer, s) }
        XCTAssertEqual(next(&buffer), "100")
        insert(&buffer, 40)  // very late, alone
        insert(&buffer, 105)
        insert(&buffer, 41)
        insert(&buffer, 106)
        XCTAssertEqual(buffer.late, 2)
        XCTAssertEqual((0 ..< 6).map { _ in next(&buffer) }, ["101", "102", "103", "104", "105", "106"])
    }

    func testFallingBehindSkipsAhead() {
        var buffer = JitterBuffer(target: 2, maximum: 6)
        for s: UInt16 in 0 ..< 20 { insert(&buffer, s) }
        // Never more than `maximum` queued: old packets were dropped to catch up.
        let first = next(&buffer)
        XCTAssertGreaterThanOrEqual(Int(first) ?? 0, 12)
    }
}
