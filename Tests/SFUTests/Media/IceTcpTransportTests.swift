import Foundation
import NIOCore
import NIOPosix
import XCTest
@testable import SFU

/// ICE-TCP against the real listener on loopback: a browser's side played with our own STUN, DTLS and SRTP.
final class IceTcpTransportTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var service: SFUService!
    let clientCertificate = try! DtlsCertificate()

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        service = try SFUService()
        service.consentTimeout = .seconds(2)
        try await service.start(port: 0, host: "127.0.0.1", iceTcp: .sameAsUdp)
    }

    override func tearDown() async throws {
        await service.shutdown()
        try await group.shutdownGracefully()
    }

    /// Publishes the aiortc offer with our client certificate's fingerprint; returns the transport id and our
    /// answer's ufrag and password.
    func publish() async throws -> (id: String, answer: String, ufrag: String, password: String) {
        let offer = OfferAnswerTests.aiortcOffer(direction: "sendrecv").replacingOccurrences(
            of: "a=fingerprint:sha-256 93:D5:1D:59:16:4D:02:5E:5D:06:90:6A:86:F9:FE:25:9F:62:8D:9A:63:FC:A1:EA:33:AC:08:00:21:26:A3:6F",
            with: "a=fingerprint:sha-256 \(clientCertificate.fingerprintSHA256)")
        let (id, answer) = try await service.publish(room: "r", offer: offer)
        func value(_ prefix: String) throws -> String {
            let line = try XCTUnwrap(answer.components(separatedBy: "\r\n").first { $0.hasPrefix(prefix) })
            return String(line.dropFirst(prefix.count))
        }
        return (id, answer, try value("a=ice-ufrag:"), try value("a=ice-pwd:"))
    }

    func check(ufrag: String, password: String, useCandidate: Bool = true, id: UInt8 = 0) -> [UInt8] {
        var attributes: [STUNAttribute] = [.username("\(ufrag):y6fP"), .priority(1_518_280_447), .iceControlling(tieBreaker: 7)]
        if useCandidate { attributes.append(.useCandidate) }
        return STUNMessage(method: .binding, messageClass: .request, transactionID: Array(repeating: id, count: 12),
                           attributes: attributes).encode(integrityKey: Array(password.utf8))
    }

    func transport(_ id: String) async throws -> WebRtcTransport? {
        let router = try await service.router(for: "r")
        return try await router.eventLoop.submit { router.transport(id: id) as? WebRtcTransport }.get()
    }

    func onLoop<T>(_ id: String, _ read: @escaping (WebRtcTransport?) -> T) async throws -> T {
        let router = try await service.router(for: "r")
        return try await router.eventLoop.submit { read(router.transport(id: id) as? WebRtcTransport) }.get()
    }

    func testChecksDtlsAndSrtpFlowOverOneTcpConnection() async throws {
        let port = try XCTUnwrap(service.port)
        XCTAssertEqual(service.tcpPort, port)
        let (id, answer, ufrag, password) = try await publish()
        XCTAssertTrue(answer.contains("a=candidate:2 1 tcp 1520435199 127.0.0.1 \(port) typ host tcptype passive\r\n"), answer)

        let peer = try await TcpPeer.connect(port: port, group: group)
        try await peer.send(check(ufrag: ufrag, password: password))
        let response = try await XCTUnwrapAsync(await peer.nextFrame())
        XCTAssertTrue(try STUNMessage.verifyIntegrity(response, key: Array(password.utf8)))
        let message = try STUNMessage.parse(response)
        XCTAssertEqual(message.messageClass, .successResponse)
        let local = try XCTUnwrap(peer.channel.localAddress?.port)
        XCTAssertTrue(message.attributes.contains(.xorMappedAddress(STUNAddress(ip: [127, 0, 0, 1], port: UInt16(local))!)))
        let selectedTcp = try await onLoop(id) { $0?.selectedRoute?.isTcp }
        XCTAssertEqual(selectedTcp, true)

        // DTLS: our client role against the transport, every record framed both ways.
        let dtls = try DtlsEndpoint(certificate: clientCertificate, role: .client, expectedRemoteFingerprint: service.fingerprint)
        for datagram in dtls.start() { try await peer.send(datagram) }
        while !dtls.isConnected {
            let frame = try await XCTUnwrapAsync(await peer.nextFrame(), "handshake stalled in \(dtls.state)")
            for datagram in try dtls.feed(frame).datagrams { try await peer.send(datagram) }
        }
        try await waitUntil("transport connected") { try await self.onLoop(id) { $0?.isConnected == true } }

        // SRTP: an Opus packet of the offer's audio SSRC reaches its producer.
        let srtp = try SrtpSession(keys: dtls.srtpKeyingMaterial(), role: .client)
        for sequence in 0 ..< UInt16(5) {
            var packet: [UInt8] = [0x80, 96, UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 0, 3, 192]
            packet += withUnsafeBytes(of: UInt32(447_337_792).bigEndian, Array.init) + Array(repeating: 0xAB, count: 80)
            try srtp.protectRtp(&packet)
            try await peer.send(packet)
        }
        let router = try await service.router(for: "r")
        try await waitUntil("RTP over TCP counted") {
            try await router.eventLoop.submit { router.producers.first { $0.kind == .audio }?.packetsReceived == 5 }.get()
        }
        var stats = try await XCTUnwrapAsync(try await service.tcpStatistics())
        XCTAssertEqual(stats.connectionsAccepted, 1)
        XCTAssertEqual(stats.connectionsOpen, 1)
        XCTAssertEqual(stats.connectionsRejected, 0)
        XCTAssertGreaterThanOrEqual(stats.framesReceived, 1 + 2 + 5)

        // Closing the transport closes its connection.
        try await service.closeTransport(room: "r", transportID: id)
        try await waitUntil("connection closed") { !peer.channel.isActive }
        try await waitUntil("listener counted the close") { try await self.service.tcpStatistics()?.connectionsOpen == 0 }
        stats = try await XCTUnwrapAsync(try await service.tcpStatistics())
        XCTAssertEqual(stats.connectionsRejected, 0)
    }

    func testMalformedStreamsCloseOnlyTheirConnection() async throws {
        let port = try XCTUnwrap(service.port)
        let (_, _, ufrag, password) = try await publish()
        let good = try await TcpPeer.connect(port: port, group: group)
        try await good.send(check(ufrag: ufrag, password: password, id: 1))
        _ = try await XCTUnwrapAsync(await good.nextFrame())

        let unknownUfrag = check(ufrag: "nobody", password: password)
        let bad: [(String, [UInt8])] = [
            ("HTTP on the media port", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
            ("huge length", [0xFF, 0xFF] + Array(repeating: 0, count: 100)),
            ("empty frame", [0, 0]),
            ("not STUN/DTLS/RTP", [0, 4, 0x40, 1, 2, 3]),
            ("DTLS before any check", [0, 3, 22, 0xFE, 0xFD]),
            ("unknown ufrag", [UInt8(unknownUfrag.count >> 8), UInt8(unknownUfrag.count & 0xFF)] + unknownUfrag),
        ]
        for (what, bytes) in bad {
            let peer = try await TcpPeer.connect(port: port, group: group)
            try await peer.sendRaw(bytes)
            try await waitUntil("\(what) closes its connection") { !peer.channel.isActive }
        }
        // The bound connection and the listener keep working.
        XCTAssertTrue(good.channel.isActive)
        try await good.send(check(ufrag: ufrag, password: password, id: 2))
        let again = try await XCTUnwrapAsync(await good.nextFrame())
        XCTAssertEqual(try STUNMessage.parse(again).transactionID, Array(repeating: 2, count: 12))
        let stats = try await XCTUnwrapAsync(try await service.tcpStatistics())
        XCTAssertEqual(stats.connectionsRejected, bad.count)
        XCTAssertEqual(stats.connectionsAccepted, bad.count + 1)
    }

    func testClosedTcpRouteFailsOverToAnotherCheckOrExpires() async throws {
        let port = try XCTUnwrap(service.port)
        let (id, _, ufrag, password) = try await publish()
        let peer = try await TcpPeer.connect(port: port, group: group)
        try await peer.send(check(ufrag: ufrag, password: password))
        _ = try await XCTUnwrapAsync(await peer.nextFrame())
        try await peer.channel.close()
        try await waitUntil("TCP route dropped") { try await self.onLoop(id) { $0 != nil && $0?.selectedRoute == nil } }

        // A later check over UDP (no nomination needed once the nominated pair is gone) carries the media now.
        let udp = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let udpCheck = check(ufrag: ufrag, password: password, useCandidate: false, id: 3)
        try await udp.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: udpCheck)))
        try await waitUntil("UDP selected") { try await self.onLoop(id) { $0?.selectedRoute == .udp(udp.localAddress!) } }
        try await udp.close()

        // Without further checks, consent (2 s here) ends the transport.
        try await waitUntil("consent expired", timeout: 5) { try await self.onLoop(id) { $0 == nil } }
    }

    // MARK: - Helpers

    func waitUntil(_ what: String, timeout: Double = 3, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !(try await condition()) {
            guard Date() < deadline else { return XCTFail("timed out: \(what)") }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    func XCTUnwrapAsync<T>(_ value: @autoclosure () async throws -> T?, _ message: String = "",
                           file: StaticString = #filePath, line: UInt = #line) async throws -> T {
        let v = try await value()
        return try XCTUnwrap(v, message, file: file, line: line)
    }
}

/// A browser's end of an ICE-TCP connection: frames what it sends, collects what it receives (on its loop).
final class TcpPeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private let framer = NIOSingleStepByteToMessageProcessor(RFC4571Framer())
    private var received: [[UInt8]] = []
    private(set) var channel: Channel!

    static func connect(port: Int, group: EventLoopGroup) async throws -> TcpPeer {
        let peer = TcpPeer()
        peer.channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer) } }
            .connect(host: "127.0.0.1", port: port).get()
        return peer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        try? framer.process(buffer: unwrapInboundIn(data)) { received.append(Array($0.readableBytesView)) }
    }

    func send(_ packet: [UInt8]) async throws {
        try await sendRaw([UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet)
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// The next frame from the server, or nil after `timeout` seconds.
    func nextFrame(timeout: Double = 3) async -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let frame = try? await channel.eventLoop.submit { self.received.isEmpty ? nil : self.received.removeFirst() }.get()
            if let frame { return frame }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return nil
    }
}
