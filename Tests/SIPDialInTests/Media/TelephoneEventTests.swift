@testable import SIPDialIn
import XCTest

final class TelephoneEventTests: XCTestCase {
    private func digit(_ detector: inout DTMFDetector, ssrc: UInt32 = 1, ts: UInt32, _ bytes: [UInt8]) -> Character? {
        bytes.withUnsafeBytes { detector.digit(ssrc: ssrc, timestamp: ts, payload: $0) }
    }

    func testParsesEventFields() throws {
        let e = try [UInt8]([11, 0x8A, 0x03, 0x20]).withUnsafeBytes { try TelephoneEvent(payload: $0) }
        XCTAssertEqual(e, TelephoneEvent(event: 11, end: true, volume: 10, duration: 800))
        XCTAssertEqual(e.digit, "#")
    }

    func testMalformedPayloads() {
        for bad: [UInt8] in [[], [1], [1, 2, 3]] {
            XCTAssertThrowsError(try bad.withUnsafeBytes { try TelephoneEvent(payload: $0) })
            var d = DTMFDetector()
            XCTAssertNil(digit(&d, ts: 1, bad))
        }
        // Events that are not DTMF keys (16 = flash, 200 = unassigned) give no digit.
        var d = DTMFDetector()
        XCTAssertNil(digit(&d, ts: 1, [16, 0, 0, 160]))
        XCTAssertNil(digit(&d, ts: 2, [200, 0, 0, 160]))
    }

    func testOneDigitPerEventDespiteUpdatesAndEndDuplicates() {
        var d = DTMFDetector()
        var got: [Character] = []
        // "1": start, two updates, three end packets, all with timestamp 1000; then "1" again at 3000; "#" at 5000.
        let packets: [(UInt32, [UInt8])] = [
            (1000, [1, 10, 0, 160]), (1000, [1, 10, 1, 64]), (1000, [1, 10, 1, 224]),
            (1000, [1, 0x8A, 2, 128]), (1000, [1, 0x8A, 2, 128]), (1000, [1, 0x8A, 2, 128]),
            (3000, [1, 10, 0, 160]), (3000, [1, 0x8A, 1, 64]),
            (5000, [11, 0x8A, 1, 64]), // only the end packets arrived (the first ones were lost)
            (5000, [11, 0x8A, 1, 64]),
        ]
        for (ts, bytes) in packets { if let c = digit(&d, ts: ts, bytes) { got.append(c) } }
        XCTAssertEqual(got, ["1", "1", "#"])
    }

    func testAllKeys() {
        let keys: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#", "A", "B", "C", "D"]
        for (code, key) in keys.enumerated() {
            XCTAssertEqual(TelephoneEvent(event: UInt8(code), end: false, volume: 0, duration: 0).digit, key)
        }
    }
}
