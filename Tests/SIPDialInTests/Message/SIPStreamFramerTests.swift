// TCP framing: messages split at every byte, several in one read, keep-alives, and streams that cannot be framed.

import XCTest
@testable import SIPDialIn

final class SIPStreamFramerTests: XCTestCase {
    func drain(_ framer: inout SIPStreamFramer) throws -> [SIPStreamFramer.Frame] {
        var frames: [SIPStreamFramer.Frame] = []
        while let f = try framer.next() { frames.append(f) }
        return frames
    }

    func testByteByByteDelivery() throws {
        let message = invite(body: "v=0\r\n")
        var framer = SIPStreamFramer()
        var frames: [SIPStreamFramer.Frame] = []
        for byte in message {
            framer.append([byte])
            frames += try drain(&framer)
        }
        XCTAssertEqual(frames, [.message(message)])
        XCTAssertEqual(framer.bufferedByteCount, 0)
    }

    func testMergedMessagesAndKeepAlives() throws {
        let a = invite(body: "a=1\r\n"), b = invite(body: "", branch: "z9hG4bKother")
        var framer = SIPStreamFramer()
        framer.append(Array("\r\n\r\n".utf8) + a + Array("\r\n".utf8) + b + Array("\r\n\r\n".utf8) + a.prefix(10))
        XCTAssertEqual(try drain(&framer), [.keepAlivePing, .message(a), .message(b), .keepAlivePing])
        framer.append(a.dropFirst(10))
        XCTAssertEqual(try drain(&framer), [.message(a)])
        XCTAssertEqual(try SIPParser.parse(a), try SIPParser.parse(Array(a)))
    }

    func testPartialKeepAliveWaits() throws {
        var framer = SIPStreamFramer()
        framer.append(Array("\r\n".utf8))
        XCTAssertNil(try framer.next())
        framer.append(Array("\r".utf8))
        XCTAssertNil(try framer.next())
        framer.append(Array("\n".utf8))
        XCTAssertEqual(try framer.next(), .keepAlivePing)
    }

    func testCompactContentLengthFramesBody() throws {
        let bytes = wire(["OPTIONS sip:u@h SIP/2.0", "v: SIP/2.0/TCP h;branch=z9hG4bK1", "f: <sip:a@b>;tag=1", "t: <sip:c@d>", "i: x",
                          "CSeq: 1 OPTIONS", "l: 4"], body: "body")
        var framer = SIPStreamFramer()
        framer.append(bytes + Array("NEXT".utf8))
        XCTAssertEqual(try framer.next(), .message(bytes))
        XCTAssertEqual(framer.bufferedByteCount, 4)
    }

    func testStreamsThatCannotBeFramed() {
        var missing = SIPStreamFramer()
        missing.append(wire(["OPTIONS sip:u@h SIP/2.0", "Via: SIP/2.0/TCP h;branch=z9hG4bK1"]))
        XCTAssertThrowsError(try missing.next()) { XCTAssertEqual($0 as? SIPStreamFramer.FramingError, .missingContentLength) }

        var negative = SIPStreamFramer()
        negative.append(invite(contentLength: -1))
        XCTAssertThrowsError(try negative.next()) { XCTAssertEqual($0 as? SIPStreamFramer.FramingError, .badContentLength("-1")) }

        let limits = SIPParserLimits(maxMessageSize: 1000)
        var endless = SIPStreamFramer(limits: limits)
        endless.append(Array("INVITE sip:u@h SIP/2.0\r\nX: ".utf8) + [UInt8](repeating: 65, count: 1200))
        XCTAssertThrowsError(try endless.next()) { XCTAssertEqual($0 as? SIPStreamFramer.FramingError, .tooLarge(limit: 1000)) }
    }

    func testOversizedMessageWithKnownLengthIsSkippedAndTheStreamStaysInStep() throws {
        let limits = SIPParserLimits(maxMessageSize: 1000)
        var framer = SIPStreamFramer(limits: limits)
        let big = invite(body: String(repeating: "b", count: 5000))
        let head = Array(big[..<(big.count - 5000)])
        let next = invite(body: "v=0\r\n", branch: "z9hG4bKnext")
        // The header block and part of the body arrive first: the header comes out (for a 513), the body is skipped
        // as it arrives, and the message after it is framed normally.
        framer.append(big[..<(head.count + 100)])
        XCTAssertEqual(try framer.next(), .oversized(head: head, size: big.count))
        XCTAssertNil(try framer.next())
        framer.append(big[(head.count + 100)..<(head.count + 3000)])
        XCTAssertNil(try framer.next())
        framer.append(Array(big[(head.count + 3000)...]) + next)
        XCTAssertEqual(try drain(&framer), [.message(next)])
        XCTAssertEqual(framer.bufferedByteCount, 0)
    }

    func testLongConnectionCompactsBuffer() throws {
        let message = invite(body: String(repeating: "x", count: 300))
        var framer = SIPStreamFramer()
        for _ in 0..<200 {
            framer.append(message)
            XCTAssertEqual(try framer.next(), .message(message))
        }
        XCTAssertEqual(framer.bufferedByteCount, 0)
    }
}
