// The transport over real sockets: §18.2.2/RFC 3581 response routing, malformed input over UDP (dropped or
// answered 400/416/513), TCP framing failures (connection closed), CRLF keep-alives, TCP connection reuse.

import NIOCore
import XCTest
@testable import SIPDialIn

final class SIPTransportTests: UserAgentTestCase {
    func testResponseAddressRules() throws {
        let source = try SocketAddress(ipAddress: "203.0.113.5", port: 40000)
        var via = try SIPVia(parsing: "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport")
        SIPTransport.stampReceived(&via, source: source)
        XCTAssertEqual(via.received, "203.0.113.5")
        XCTAssertEqual(via.rport, 40000)
        XCTAssertEqual(try SIPTransport.responseAddress(via: via, source: source), source, "NAT: answer where it came from")
        var noRport = try SIPVia(parsing: "SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK1")
        SIPTransport.stampReceived(&noRport, source: source)
        XCTAssertEqual(noRport.received, "203.0.113.5")
        XCTAssertNil(noRport.rport)
        XCTAssertEqual(try SIPTransport.responseAddress(via: noRport, source: source), try SocketAddress(ipAddress: "203.0.113.5", port: 5070),
                       "§18.2.2: received address, sent-by port")
        var same = try SIPVia(parsing: "SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK1")
        SIPTransport.stampReceived(&same, source: source)
        XCTAssertNil(same.received, "no received when sent-by is the source")
        XCTAssertEqual(try SIPTransport.responseAddress(via: same, source: source).port, 5060)
    }

    func testOptionsOverUDPWithRport() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("OPTIONS", port: 1))  // a wrong sent-by port: only rport gets the answer back
        let ok = await peer.waitForResponse(status: 200)
        XCTAssertEqual(ok?.topVia?.rport, peer.localPort)
        XCTAssertEqual(ok?.topVia?.received, "127.0.0.1")
        XCTAssertTrue(ok?.headers["Allow"]?.contains("INVITE") ?? false)
        XCTAssertEqual(ok?.headers["Server"], "Rooms")
        XCTAssertNotNil(ok?.to?.tag)
    }

    func testMalformedUDPInput() async throws {
        let ua = try await startAgent { $0.limits.maxMessageSize = 3000 }
        let peer = try await udpPeer(ua)
        peer.send(Array("this is not SIP at all\r\n\r\n".utf8))
        peer.send([0, 1, 2, 3, 0xFF])
        peer.send(Array("\r\n\r\n".utf8))  // keep-alive: ignored
        let badCSeq = rawRequest("OPTIONS", port: peer.localPort).replacing("CSeq: 1 OPTIONS", with: "CSeq: x OPTIONS")
        peer.send(badCSeq)
        // The 400 echoes the broken CSeq, so it is checked as text.
        await expectEventually("400 naming the CSeq") {
            peer.datagrams.contains { text($0).hasPrefix("SIP/2.0 400 Bad Request (bad CSeq header") }
        }
        peer.send(rawRequest("OPTIONS", port: peer.localPort, uri: "tel:+15551234"))
        await expectResponse(peer, 416)
        peer.send(rawRequest("OPTIONS", port: peer.localPort, extra: ["X-Pad: " + String(repeating: "p", count: 4000)]))
        await expectResponse(peer, 513)
        peer.send(rawRequest("OPTIONS", port: peer.localPort).replacing("SIP/2.0\r\n", with: "SIP/3.0\r\n"))
        await expectResponse(peer, 505)
        let stats = await ua.transportStatistics()
        XCTAssertEqual(stats.malformedDropped, 2)
        XCTAssertEqual(stats.malformedAnswered, 4)
        XCTAssertEqual(stats.keepAlivesReceived, 1)
        XCTAssertEqual(peer.datagrams.count, 4, "garbage and keep-alives are not answered")
    }

    func testTCPKeepAliveReuseAndFramingFailure() async throws {
        let ua = try await startAgent { $0.limits.maxMessageSize = 3000 }
        let peer = try await tcpPeer(ua)
        peer.send(Array("\r\n\r\n".utf8))
        await expectEventually("pong is a single CRLF") { peer.stream == Array("\r\n".utf8) }
        let options = rawRequest("OPTIONS", port: peer.localPort, transport: "TCP")
        // Two requests in one segment, the second split over two writes.
        let second = rawRequest("OPTIONS", port: peer.localPort, transport: "TCP", cseq: 2)
        peer.send(options + second.prefix(20))
        peer.send(Array(second.dropFirst(20)))
        await expectResponse(peer, 200, count: 2)
        XCTAssertFalse(peer.isClosed)
        peer.send(rawRequest("OPTIONS", port: peer.localPort, transport: "TCP", extra: ["X-Pad: " + String(repeating: "p", count: 4000)]))
        await expectEventually("an oversized message closes the connection") { peer.isClosed }
        let stats = await ua.transportStatistics()
        XCTAssertEqual(stats.connectionsClosedForFraming, 1)
    }

    func testMethodPolicies() async throws {
        let ua = try await startAgent()
        let peer = try await udpPeer(ua)
        peer.send(rawRequest("FROBNICATE", port: peer.localPort))
        let notImplemented = await peer.waitForResponse(status: 501)
        XCTAssertEqual(notImplemented?.headers["Allow"], "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE")
        peer.send(rawRequest("REGISTER", port: peer.localPort))
        await expectResponse(peer, 405)
        peer.send(rawRequest("BYE", port: peer.localPort))
        await expectResponse(peer, 481, "BYE outside a dialog")
        peer.send(rawRequest("INFO", port: peer.localPort, toTag: "nosuchdialog"))
        await expectResponse(peer, 481, count: 2)
        peer.send(rawRequest("OPTIONS", port: peer.localPort, extra: ["Require: 100rel, foo"]))
        let bad = await peer.waitForResponse(status: 420)
        XCTAssertEqual(bad?.headers["Unsupported"], "100rel, foo")
        peer.send(rawRequest("CANCEL", port: peer.localPort))
        await expectResponse(peer, 481, count: 3, "CANCEL without INVITE")
        // A retransmitted request gets the same answer from its transaction, not a second evaluation.
        let info = rawRequest("INFO", port: peer.localPort, branch: "z9hG4bKretrans", toTag: "x")
        peer.send(info)
        peer.send(info)
        await expectResponse(peer, 481, count: 5)
    }
}
