import XCTest
@testable import SIPDialIn

final class DTMFInfoTests: XCTestCase {
    func testDTMFRelayBodies() throws {
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=5\r\nDuration=160\r\n".utf8)),
                       DTMFInfo(digit: "5", durationMs: 160))
        XCTAssertEqual(try DTMFInfo(contentType: "Application/DTMF-Relay; charset=x", body: Array("signal = #\nduration= 80".utf8)),
                       DTMFInfo(digit: "#", durationMs: 80))
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=10\r\nDuration=100".utf8)).digit, "*")
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=11".utf8)),
                       DTMFInfo(digit: "#", durationMs: DTMFInfo.defaultDurationMs))
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=d".utf8)).digit, "D")
    }

    func testDTMFBodies() throws {
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf", body: Array("5".utf8)).digit, "5")
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf", body: Array(" *\r\n".utf8)).digit, "*")
        XCTAssertEqual(try DTMFInfo(contentType: "application/dtmf", body: Array("11".utf8)).digit, "#")
    }

    func testBadBodies() {
        XCTAssertThrowsError(try DTMFInfo(contentType: "text/plain", body: Array("5".utf8))) {
            XCTAssertEqual($0 as? DTMFInfo.ParseError, .unsupportedContentType("text/plain"))
        }
        XCTAssertThrowsError(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Duration=100".utf8))) {
            XCTAssertEqual($0 as? DTMFInfo.ParseError, .noSignal)
        }
        XCTAssertThrowsError(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=E".utf8))) {
            XCTAssertEqual($0 as? DTMFInfo.ParseError, .badSignal("E"))
        }
        XCTAssertThrowsError(try DTMFInfo(contentType: "application/dtmf-relay", body: Array("Signal=1\nDuration=-5".utf8))) {
            XCTAssertEqual($0 as? DTMFInfo.ParseError, .badDuration("-5"))
        }
        XCTAssertThrowsError(try DTMFInfo(contentType: "application/dtmf", body: [0xFF, 0xFE]))
        XCTAssertThrowsError(try DTMFInfo(contentType: "application/dtmf", body: Array("16".utf8)))
    }
}
