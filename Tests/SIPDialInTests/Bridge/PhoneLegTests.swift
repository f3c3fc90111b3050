import Logging
import NIOCore
import NIOPosix
@testable import SIPDialIn
import XCTest

final class PhoneLegTests: XCTestCase {
    func testResumingFromHoldRestartsTheRtpClock() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let leg = try await PhoneLeg.open(id: "hold", on: loop, host: "127.0.0.1", ports: nil,
                                          format: PhoneMediaFormat(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: 101),
                                          remote: nil, logger: Logger(label: "test"))
        let before = try await loop.submit { leg.lastPacketAt }.get()
        try await Task.sleep(nanoseconds: 30_000_000)
        let (held, resumed) = try await loop.submit { () -> (NIODeadline, NIODeadline) in
            leg.onHold = true
            let held = leg.lastPacketAt
            leg.onHold = false
            return (held, leg.lastPacketAt)
        }.get()
        // Going on hold changes nothing; resuming counts as fresh activity (the hold's silence is not a dead line).
        XCTAssertEqual(held, before)
        XCTAssertGreaterThanOrEqual(resumed - before, .milliseconds(30))
        let unchanged = try await loop.submit { () -> Bool in
            let t = leg.lastPacketAt
            leg.onHold = false  // not on hold: setting it again is no resume
            return leg.lastPacketAt == t
        }.get()
        XCTAssertTrue(unchanged)
        try await loop.submit { leg.close() }.get()
        try await group.shutdownGracefully()
    }
}
