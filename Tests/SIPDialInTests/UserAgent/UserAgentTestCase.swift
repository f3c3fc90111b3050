// Common fixture: one event loop group per test, a user agent on loopback with T1 = 50 ms, a recording delegate.

import NIOCore
import NIOPosix
import XCTest
@testable import SIPDialIn

class UserAgentTestCase: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var agents: [SIPUserAgent] = []
    var peers: [RawSIPPeer] = []
    var processes: [PeerProcess] = []
    var delegate = RecordingDelegate()

    override func setUp() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        delegate = RecordingDelegate()
    }

    override func tearDown() async throws {
        for p in processes { p.stop() }
        for peer in peers { peer.close() }
        for ua in agents { await ua.stop() }
        try await group.shutdownGracefully()
    }

    func startAgent(_ configure: (inout SIPConfiguration) -> Void = { _ in }) async throws -> SIPUserAgent {
        var configuration = SIPConfiguration.loopback(t1: .milliseconds(50))
        configure(&configuration)
        let ua = SIPUserAgent(configuration: configuration, eventLoopGroup: group)
        ua.delegate = delegate
        try await ua.start()
        agents.append(ua)
        return ua
    }

    func udpPeer(_ ua: SIPUserAgent) async throws -> RawSIPPeer {
        let peer = try await RawSIPPeer.udp(group: group, to: ua.udpPort!)
        peers.append(peer)
        return peer
    }

    func tcpPeer(_ ua: SIPUserAgent) async throws -> RawSIPPeer {
        let peer = try await RawSIPPeer.tcp(group: group, to: ua.tcpPort!)
        peers.append(peer)
        return peer
    }
}

extension UserAgentTestCase {
    /// Fails unless `peer` receives `count` responses with `status` within the timeout.
    @discardableResult
    func expectResponse(_ peer: RawSIPPeer, _ status: Int, count: Int = 1, _ message: String = "",
                        file: StaticString = #filePath, line: UInt = #line) async -> SIPResponse? {
        let response = await peer.waitForResponse(status: status, count: count)
        XCTAssertNotNil(response, "no \(status) (#\(count)) \(message); got \(peer.responses.map(\.status))", file: file, line: line)
        return response
    }

    func expectEventually(_ message: String, timeout: TimeInterval = 5, file: StaticString = #filePath, line: UInt = #line,
                          _ condition: () -> Bool) async {
        let ok = await eventually(timeout: timeout, condition)
        XCTAssertTrue(ok, message, file: file, line: line)
    }
}
