import NIOCore
import NIOPosix
import XCTest
@testable import SFU

final class SFUServiceTests: XCTestCase {
    func testTransportWithoutConsentIsClosed() async throws {
        let service = try SFUService()
        service.consentTimeout = .milliseconds(500)
        try await service.start(port: 0, host: "127.0.0.1")
        let (id, answer) = try await service.publish(room: "r", offer: OfferAnswerTests.aiortcOffer(direction: "sendrecv"))
        XCTAssertFalse(id.isEmpty)
        XCTAssertTrue(answer.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 \(service.port!) typ host"))
        let router = try await service.router(for: "r")
        let before = try await router.eventLoop.submit { (router.transportCount, router.producers.count) }.get()
        XCTAssertEqual(before.0, 1)
        XCTAssertEqual(before.1, 2)
        try await Task.sleep(nanoseconds: 1_800_000_000) // the consent check runs once a second
        let after = try await router.eventLoop.submit { (router.transportCount, router.producers.count) }.get()
        XCTAssertEqual(after.0, 0)
        XCTAssertEqual(after.1, 0)
        await service.shutdown()
    }

    func testGarbageAndUnknownUfragsAreDroppedAndCounted() async throws {
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        let port = try XCTUnwrap(service.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let unknownUfrag = STUNMessage(method: .binding, messageClass: .request, transactionID: Array(0 ..< 12),
                                       attributes: [.username("nobody:x")]).encode(integrityKey: Array("p".utf8))
        var rng = SystemRandomNumberGenerator()
        var datagrams: [[UInt8]] = [unknownUfrag, [], [0], [0x80], [22, 0xFE, 0xFD]]
        for _ in 0 ..< 200 { datagrams.append((0 ..< Int.random(in: 1 ... 300, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }) }
        for bytes in datagrams where !bytes.isEmpty {
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes)))
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        let stats = try await service.statistics()
        XCTAssertEqual(stats.datagramsReceived, datagrams.count - 1)
        XCTAssertEqual(stats.datagramsDropped, datagrams.count - 1)
        try await client.close()
        try await group.shutdownGracefully()
        await service.shutdown()
    }

    /// Renegotiation at the service level: an offer from the same peer (ICE ufrag, fingerprint) changes the existing
    /// transport's producers and consumers; any other offer makes a new transport.
    func testRenegotiationChangesTracksOnTheSameTransport() async throws {
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        let router = try await service.router(for: "r")
        func counts() async throws -> (transports: Int, producers: Int, consumers: Int) {
            try await router.eventLoop.submit {
                (router.transportCount, router.producers.count, router.producers.reduce(0) { $0 + $1.consumers.count })
            }.get()
        }
        let offer = OfferAnswerTests.aiortcOffer(direction: "sendrecv")
        let (publisher, _) = try await service.publish(room: "r", offer: offer)
        let sub = try await service.subscription(room: "r", offer: OfferAnswerTests.aiortcOffer(direction: "recvonly"))
        XCTAssertEqual(sub.tracks.map(\.kind), ["audio", "video"])
        XCTAssertFalse(sub.renegotiated)
        var c = try await counts()
        XCTAssertEqual([c.transports, c.producers, c.consumers], [2, 2, 2])

        // The publisher stops its video (port 0): same transport, one producer; the video consumer goes with it.
        let withoutVideo = offer.replacingOccurrences(of: "m=video 41403", with: "m=video 0")
        let (again, answer) = try await service.publish(room: "r", offer: withoutVideo, renegotiating: publisher)
        XCTAssertEqual(again, publisher)
        XCTAssertTrue(answer.contains("m=video 0 "), answer)
        c = try await counts()
        XCTAssertEqual([c.transports, c.producers, c.consumers], [2, 1, 1])

        // The subscriber re-offers: its audio mid is kept (same SSRC), the video m-line has nothing left.
        let resub = try await service.subscription(room: "r", offer: OfferAnswerTests.aiortcOffer(direction: "recvonly"),
                                                   renegotiating: sub.transportID)
        XCTAssertTrue(resub.renegotiated)
        XCTAssertEqual(resub.transportID, sub.transportID)
        XCTAssertEqual(resub.tracks.map(\.mid), ["0"])
        let ssrc = { (sdp: String) in sdp.split(separator: "\r\n").first { $0.hasPrefix("a=ssrc:") && $0.hasSuffix("cname:rooms-sfu") } }
        XCTAssertEqual(ssrc(resub.answer), ssrc(sub.answer))
        XCTAssertTrue(resub.answer.contains("a=inactive"), resub.answer)

        // Video back on the publisher connection: a new producer, and the subscriber's freed m-line takes it.
        _ = try await service.publish(room: "r", offer: offer, renegotiating: publisher)
        let third = try await service.subscription(room: "r", offer: OfferAnswerTests.aiortcOffer(direction: "recvonly"),
                                                   renegotiating: sub.transportID)
        XCTAssertEqual(third.tracks.map(\.mid), ["0", "1"])
        c = try await counts()
        XCTAssertEqual([c.transports, c.producers, c.consumers], [2, 2, 2])

        // Another peer (new ufrag) is a new connection even when it names the old transport.
        let other = offer.replacingOccurrences(of: "a=ice-ufrag:y6fP", with: "a=ice-ufrag:z7gQ")
        let (fresh, _) = try await service.publish(room: "r", offer: other, renegotiating: publisher)
        XCTAssertNotEqual(fresh, publisher)
        c = try await counts()
        XCTAssertEqual(c.transports, 3)
        await service.shutdown()
    }
}
