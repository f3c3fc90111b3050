import NIOCore
import XCTest
@testable import SFU

/// A connection that negotiated data channels, through SFUService: reported with its participant, and gone (SCTP
/// association included) when it closes.
final class DataChannelTransportTests: XCTestCase {
    func testDataTransportIsReportedAndFreedOnClose() async throws {
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        let before = UsrSctpStack.shared.count
        let offer = DataChannelNegotiationTests.offer(application: DataChannelNegotiationTests.modern)
        let (id, answer) = try await service.publish(room: "r", offer: offer, participant: { "session-of-\($0)" })
        XCTAssertTrue(answer.contains("a=sctp-port:5000"))
        XCTAssertEqual(UsrSctpStack.shared.count, before + 1)

        let (_, rooms) = await service.report()
        let report = try XCTUnwrap(rooms.first { $0.room == "r" })
        XCTAssertEqual(report.transports, 1, "a data-only connection counts as a transport")
        XCTAssertEqual(report.dataChannels.map(\.transportID), [id])
        XCTAssertEqual(report.dataChannels.first?.participant, "session-of-\(id)")
        XCTAssertEqual(report.dataChannels.first?.connected, false, "no peer has connected")

        try await service.closeTransport(room: "r", transportID: id)
        let (_, after) = await service.report()
        XCTAssertEqual(after.first { $0.room == "r" }?.dataChannels.count, 0)
        XCTAssertEqual(after.first { $0.room == "r" }?.transports, 0)
        // The transport (and with it its association) is released once nothing holds it.
        for _ in 0 ..< 50 where UsrSctpStack.shared.count != before { try await Task.sleep(nanoseconds: 20_000_000) }
        XCTAssertEqual(UsrSctpStack.shared.count, before)
        await service.shutdown()
    }

    func testAudioOnlyOfferGetsNoDataChannels() async throws {
        let service = try SFUService()
        try await service.start(port: 0, host: "127.0.0.1")
        let before = UsrSctpStack.shared.count
        _ = try await service.publish(room: "r", offer: OfferAnswerTests.aiortcOffer(direction: "sendonly"))
        XCTAssertEqual(UsrSctpStack.shared.count, before)
        let (_, rooms) = await service.report()
        XCTAssertEqual(rooms.first?.dataChannels.count, 0)
        await service.shutdown()
    }
}
