@testable import SIPDialIn
import XCTest

final class PinEntryTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func testDigitsThenHashLookUp() {
        var entry = PinEntry()
        XCTAssertEqual(entry.press("1", at: t0), .stopPrompt) // barge-in on the first key
        XCTAssertEqual(entry.press("2", at: t0), .none)
        XCTAssertEqual(entry.press("3", at: t0), .none)
        XCTAssertEqual(entry.press("#", at: t0), .lookup("123"))
        XCTAssertEqual(entry.digits, "")
        XCTAssertEqual(entry.press("#", at: t0), .none, "an empty PIN is not looked up")
    }

    func testStarStartsOverAndLettersAreIgnored() {
        var entry = PinEntry()
        _ = entry.press("9", at: t0)
        _ = entry.press("*", at: t0)
        _ = entry.press("A", at: t0)
        _ = entry.press("4", at: t0)
        XCTAssertEqual(entry.press("#", at: t0), .lookup("4"))
    }

    func testInterDigitTimeoutSubmits() {
        var entry = PinEntry()
        _ = entry.press("5", at: t0)
        XCTAssertEqual(entry.timeout(now: t0.addingTimeInterval(3), interDigit: 5), .none)
        XCTAssertEqual(entry.timeout(now: t0.addingTimeInterval(5), interDigit: 5), .lookup("5"))
        XCTAssertEqual(entry.timeout(now: t0.addingTimeInterval(20), interDigit: 5), .none)
    }

    func testThreeWrongPinsHangUp() {
        var entry = PinEntry()
        XCTAssertEqual(entry.resolve(.unknown), .retry(.invalid))
        XCTAssertEqual(entry.resolve(.unknown), .retry(.invalid))
        XCTAssertEqual(entry.resolve(.unknown), .hangUp(.goodbyeInvalid))
    }

    func testTimeWindowAndJoin() {
        var entry = PinEntry()
        XCTAssertEqual(entry.resolve(.notYetOpen), .hangUp(.notYetOpen))
        XCTAssertEqual(entry.resolve(.ended), .hangUp(.ended))
        XCTAssertEqual(entry.resolve(.room("standup")), .join("standup"))
    }

    func testOverlongPinIsCapped() {
        var entry = PinEntry()
        for _ in 0 ..< 40 { _ = entry.press("7", at: t0) }
        XCTAssertEqual(entry.digits.count, PinEntry.maximumDigits)
    }

    func testDirectoriesChain() async {
        let chain = ChainedPins([StaticPins(["1": "a"]), StaticPins(["1": "b", "2": "c"])])
        let first = await chain.lookup(pin: "1", at: t0)
        let second = await chain.lookup(pin: "2", at: t0)
        let none = await chain.lookup(pin: "3", at: t0)
        XCTAssertEqual(first, .room("a"))
        XCTAssertEqual(second, .room("c"))
        XCTAssertEqual(none, .unknown)
    }

    func testConferenceWithOwnerRulesJoinsItsRoom() {
        var entry = PinEntry()
        let rules = OwnerRules(conferenceID: "c1", waitForOwner: true, endWhenOwnerLeaves: false, callerIsOwner: false)
        XCTAssertEqual(entry.resolve(.conference(room: "conf-c1", rules: rules)), .join("conf-c1"))
    }
}
