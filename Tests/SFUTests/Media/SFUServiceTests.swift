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
}
