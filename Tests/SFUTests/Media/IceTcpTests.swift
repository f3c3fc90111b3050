import NIOCore
import NIOPosix
import XCTest
@testable import SFU

/// RFC 4571 framing as ICE-TCP uses it.
final class RFC4571FramerTests: XCTestCase {
    /// Feeds `chunks` as they would arrive from TCP; returns the frames and the error that ended the stream.
    func frames(_ chunks: [[UInt8]], maxFrameLength: Int = 2048) -> (frames: [[UInt8]], error: RFC4571FramingError?) {
        let processor = NIOSingleStepByteToMessageProcessor(RFC4571Framer(maxFrameLength: maxFrameLength))
        var out: [[UInt8]] = []
        do {
            for chunk in chunks {
                try processor.process(buffer: ByteBuffer(bytes: chunk)) { out.append(Array($0.readableBytesView)) }
            }
        } catch {
            return (out, error as? RFC4571FramingError)
        }
        return (out, nil)
    }

    let stun: [UInt8] = [0, 1, 0, 0] + Array(repeating: 7, count: 16)
    let rtp: [UInt8] = [0x80, 96] + Array(repeating: 9, count: 1198)

    func framed(_ packet: [UInt8]) -> [UInt8] { [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet }

    func testFramesSplitAcrossReadsAreReassembled() {
        let stream = framed(stun) + framed(rtp)
        // Byte by byte, and cut inside the length prefix and inside a packet.
        XCTAssertEqual(frames(stream.map { [$0] }).frames, [stun, rtp])
        XCTAssertEqual(frames([Array(stream[..<1]), Array(stream[1 ..< 30]), Array(stream[30...])]).frames, [stun, rtp])
    }

    func testSeveralFramesInOneReadAreSplit() {
        let result = frames([framed(stun) + framed(rtp) + framed(stun)])
        XCTAssertEqual(result.frames, [stun, rtp, stun])
        XCTAssertNil(result.error)
    }

    func testIncompleteFrameWaitsForMoreBytes() {
        let result = frames([Array(framed(rtp).prefix(600))])
        XCTAssertEqual(result.frames, [])
        XCTAssertNil(result.error)
    }

    func testEmptyFrameEndsTheStream() {
        let result = frames([framed(stun) + [0, 0] + framed(stun)])
        XCTAssertEqual(result.frames, [stun])
        XCTAssertEqual(result.error, .emptyFrame)
    }

    func testOversizedLengthIsRejectedBeforeItsBytesArrive() {
        // Only the prefix has arrived: a lying length must not make the connection buffer 64 KiB first.
        XCTAssertEqual(frames([[0xFF, 0xFF]]).error, .oversizedFrame(65_535))
        XCTAssertEqual(frames([framed(Array(repeating: 1, count: 2049))]).error, .oversizedFrame(2049))
        let largest = [0x80, 96] + Array(repeating: UInt8(1), count: 2046)
        XCTAssertEqual(frames([framed(largest)]).frames, [largest])
    }

    func testGarbageStreamsAreRejected() {
        // An HTTP request or a TLS ClientHello on the media port reads as a huge length.
        XCTAssertEqual(frames([Array("GET / HTTP/1.1\r\n\r\n".utf8)]).error, .oversizedFrame(0x4745))
        XCTAssertEqual(frames([[0x16, 0x03, 0x01, 0x02, 0x00]]).error, .oversizedFrame(0x1603))
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 500 { // random bytes never trap, and never yield more than they hold
            let noise = (0 ..< Int.random(in: 1 ... 5000, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            let result = frames([noise], maxFrameLength: 2048)
            XCTAssertLessThanOrEqual(result.frames.reduce(0) { $0 + $1.count + 2 }, noise.count)
        }
    }

    func testOutgoingFrameHasItsLengthInFront() {
        var buffer = ByteBuffer()
        RFC4571Framer.reserveLengthPrefix(in: &buffer)
        buffer.writeBytes(rtp)
        XCTAssertTrue(RFC4571Framer.sealLengthPrefix(of: &buffer))
        XCTAssertEqual(Array(buffer.readableBytesView), framed(rtp))
        var empty = ByteBuffer()
        RFC4571Framer.reserveLengthPrefix(in: &empty)
        XCTAssertFalse(RFC4571Framer.sealLengthPrefix(of: &empty)) // nothing written: nothing to send
    }
}

/// The candidates our answers carry.
final class IceTcpCandidateTests: XCTestCase {
    let local = LocalTransportDescription(iceUfrag: "abcdEFGH", icePassword: "0123456789abcdefghijklmn", fingerprint: "AA:BB",
                                          candidates: [("192.0.2.1", 40000), ("198.51.100.2", 40000)], tcpPort: 40001)

    func testPassiveTcpCandidatesFollowUdpWithLowerPriority() throws {
        let candidates = OfferAnswer.hostCandidates(local)
        XCTAssertEqual(candidates.map(\.sdpValue), [
            "1 1 udp 2130706431 192.0.2.1 40000 typ host",
            "2 1 udp 2130706175 198.51.100.2 40000 typ host",
            "3 1 tcp 1520435199 192.0.2.1 40001 typ host tcptype passive",
            "4 1 tcp 1520434943 198.51.100.2 40001 typ host tcptype passive",
        ])
        let udp = candidates.filter { $0.transport == "udp" }.map(\.priority)
        let tcp = candidates.filter { $0.transport == "tcp" }.map(\.priority)
        XCTAssertLessThan(tcp.max()!, udp.min()!) // browsers prefer any UDP pair
        // RFC 6544 §4.2: local preference = 2^13 * direction-pref (passive: 4) + other-pref.
        XCTAssertEqual(((candidates[2].priority >> 8) & 0xFFFF) >> 13, 4)
        for candidate in candidates { // what we write, a parser (ours, the browser's) reads back unchanged
            XCTAssertEqual(try SDPCandidate(parsing: "candidate:" + candidate.sdpValue), candidate)
        }
    }

    func testAnswerListsTcpCandidatesBeforeEndOfCandidates() throws {
        let offer = try OfferAnswer.parse(OfferAnswerTests.aiortcOffer(direction: "sendrecv"))
        let text = try OfferAnswer.answerPublish(offer, local: local).answer.serialize()
        let lines = text.components(separatedBy: "\r\n")
        let tcp = try XCTUnwrap(lines.firstIndex(of: "a=candidate:3 1 tcp 1520435199 192.0.2.1 40001 typ host tcptype passive"))
        XCTAssertLessThan(tcp, try XCTUnwrap(lines.firstIndex(of: "a=end-of-candidates")))
        XCTAssertTrue(text.contains("m=audio 40000 UDP/TLS/RTP/SAVPF"), text) // the m-line stays UDP
        XCTAssertTrue(text.contains("c=IN IP4 192.0.2.1\r\n"), text)
        var withoutTcp = local
        withoutTcp.tcpPort = nil
        XCTAssertFalse(try OfferAnswer.answerPublish(offer, local: withoutTcp).answer.serialize().contains(" tcp "))
    }
}
