import Logging
import NIOCore
import NIOPosix
import XCTest
@testable import SFU

/// Two in-process usrsctp associations wired to each other (what DTLS would carry, handed over on the loop):
/// the association comes up, DCEP opens a channel, messages of every kind cross in order, limits hold, teardown
/// leaves nothing behind.
final class DataChannelSessionTests: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var loop: EventLoop { group.next() }

    var pairs: [Pair] = []

    override func setUp() { group = MultiThreadedEventLoopGroup(numberOfThreads: 1) }
    override func tearDown() {
        // The pairs' callbacks capture the pair: close them to break the cycle and free the associations.
        try? loop.submit { for pair in self.pairs { pair.server?.close(); pair.client?.close(); pair.server = nil; pair.client = nil } }.wait()
        pairs = []
        try? group.syncShutdownGracefully()
    }

    final class Pair {
        var server: DataChannelSession!
        var client: DataChannelSession!
        var serverReceived: [(label: String, isText: Bool, data: [UInt8])] = []
        var clientReceived: [(label: String, isText: Bool, data: [UInt8])] = []
        var opened: [DataChannel] = []
        /// Test hook: mangle packets from the client before the server sees them.
        var mangle: (([UInt8]) -> [UInt8])?
        /// Test hook: the client stops reading (its packets from the server are lost, as with a stalled peer).
        var clientStalled = false
    }

    func makePair(serverMax: Int = 65_536, clientMax: Int = 65_536) throws -> Pair {
        let pair = Pair()
        pairs.append(pair)
        let loop = self.loop
        try loop.submit {
            let logger = Logger(label: "test")
            pair.server = try DataChannelSession(eventLoop: loop, parameters: DataChannelParameters(remoteMaxMessageSize: serverMax),
                                                 isDtlsServer: true, logger: logger) { packet in
                loop.execute { if !pair.clientStalled { pair.client?.receive(packet) } }
            }
            pair.client = try DataChannelSession(eventLoop: loop, parameters: DataChannelParameters(remoteMaxMessageSize: clientMax),
                                                 isDtlsServer: false, logger: logger) { packet in
                loop.execute { pair.server?.receive(pair.mangle?(packet) ?? packet) }
            }
            pair.server.onMessage = { channel, isText, data in pair.serverReceived.append((channel.label, isText, data)) }
            pair.client.onMessage = { channel, isText, data in pair.clientReceived.append((channel.label, isText, data)) }
            pair.server.onChannelOpen = { pair.opened.append($0) }
            pair.server.start()
            pair.client.start()
        }.wait()
        try waitUntil("associations up") { pair.server.isConnected && pair.client.isConnected }
        return pair
    }

    func waitUntil(_ what: String, timeout: TimeInterval = 10, _ condition: @escaping () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try loop.submit(condition).wait() { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("timed out waiting for \(what)")
        throw CancellationError()
    }

    func testChannelOpensAndMessagesCrossInOrder() throws {
        let pair = try makePair()
        let stream = try loop.submit { pair.client.open(label: "chat")?.stream }.wait()
        XCTAssertEqual(stream, 0, "the DTLS client opens on even streams")
        try waitUntil("server sees the open") { pair.opened.count == 1 }
        XCTAssertEqual(pair.opened.first?.label, "chat")
        try waitUntil("ack") { pair.client.channels[0]?.isAcknowledged == true }

        let big = (0 ..< 60 * 1024).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try loop.submit {
            for i in 0 ..< 50 { XCTAssertTrue(pair.client.send(Array("msg \(i)".utf8), isText: true, on: 0)) }
            XCTAssertTrue(pair.client.send([], isText: true, on: 0))
            XCTAssertTrue(pair.client.send([], isText: false, on: 0))
            XCTAssertTrue(pair.client.send(big, isText: false, on: 0))
        }.wait()
        try waitUntil("all messages") { pair.serverReceived.count == 53 }
        XCTAssertEqual(pair.serverReceived.prefix(50).map { String(decoding: $0.data, as: UTF8.self) }, (0 ..< 50).map { "msg \($0)" })
        XCTAssertTrue(pair.serverReceived[50].isText && pair.serverReceived[50].data.isEmpty)
        XCTAssertTrue(!pair.serverReceived[51].isText && pair.serverReceived[51].data.isEmpty)
        XCTAssertEqual(pair.serverReceived[52].data, big)

        // And back, on the channel the client opened.
        try loop.submit { XCTAssertTrue(pair.server.send(Array("pong".utf8), isText: true, on: 0)) }.wait()
        try waitUntil("reply") { pair.clientReceived.count == 1 }
        XCTAssertEqual(pair.clientReceived.first?.data, Array("pong".utf8))

        let stats = try loop.submit { pair.server.statistics }.wait()
        XCTAssertEqual(stats.messagesReceived, 53)
        XCTAssertEqual(stats.bytesReceived, big.count + (0 ..< 50).reduce(0) { $0 + "msg \($1)".utf8.count })
        XCTAssertEqual(stats.messagesSent, 1)
        XCTAssertEqual(stats.channelsOpen, 1)
    }

    func testStalledReceiverGetsDropsAndNeverBlocksTheSender() throws {
        let pair = try makePair()
        try loop.submit { _ = pair.client.open(label: "chat") }.wait()
        try waitUntil("open") { pair.server.channels[0] != nil }
        let message = [UInt8](repeating: 7, count: 60 * 1024)
        let results = try loop.submit { () -> [Bool] in
            pair.clientStalled = true
            // 3 MiB towards a peer that reads nothing: the 1 MiB send buffer fills, the rest is dropped at once.
            return (0 ..< 50).map { _ in pair.server.send(message, isText: false, on: 0) }
        }.wait()
        XCTAssertTrue(results.prefix(3).allSatisfy { $0 }, "the first messages fit the buffer")
        XCTAssertTrue(results.contains(false), "a full buffer drops instead of queueing without bound")
        let stats = try loop.submit { pair.server.statistics }.wait()
        XCTAssertEqual(stats.messagesSent + stats.messagesDropped, 50)
        XCTAssertGreaterThan(stats.messagesDropped, 0)
        // The stalled peer's direction does not hold up the other one.
        try loop.submit { XCTAssertTrue(pair.client.send(Array("still here".utf8), isText: true, on: 0)) }.wait()
        try waitUntil("the server still hears the client") { pair.serverReceived.last?.data == Array("still here".utf8) }
    }

    func testServerOpenedChannelUsesOddStreams() throws {
        let pair = try makePair()
        let channel = try loop.submit { pair.server.open(label: "rooms") }.wait()
        XCTAssertEqual(channel?.stream, 1)
        try waitUntil("client sees it") { pair.client.channels[1]?.label == "rooms" }
        try waitUntil("ack") { pair.server.channels[1]?.isAcknowledged == true }
    }

    func testOversizeMessagesAreRefusedBothWays() throws {
        // The server may send the client at most 1000 bytes; it accepts up to DataChannelSession.maxMessageSize.
        let pair = try makePair(serverMax: 1000)
        try loop.submit { _ = pair.client.open(label: "chat") }.wait()
        try waitUntil("open") { pair.server.channels[0] != nil }
        try loop.submit {
            XCTAssertFalse(pair.server.send([UInt8](repeating: 1, count: 1001), isText: false, on: 0))
            XCTAssertEqual(pair.server.statistics.messagesDropped, 1)
            // The client's limit towards the server is 64 KiB here: pretend a peer ignores ours by lifting it.
        }.wait()
        let tooBig = [UInt8](repeating: 2, count: DataChannelSession.maxMessageSize + 1)
        try loop.submit {
            // Bypass the client's own check to see the server discard while reassembling.
            _ = pair.client.sendUnchecked(tooBig, on: 0)
            XCTAssertTrue(pair.client.send(Array("after".utf8), isText: true, on: 0))
        }.wait()
        try waitUntil("the small one after the big one") { pair.serverReceived.count == 1 }
        XCTAssertEqual(pair.serverReceived.first?.data, Array("after".utf8))
        XCTAssertEqual(try loop.submit { pair.server.oversizeMessagesDiscarded }.wait(), 1)
    }

    func testGarbageAndBadDCEPDoNotBreakTheAssociation() throws {
        let pair = try makePair()
        try loop.submit {
            for n in [1, 11, 12, 13, 100, 1500] {
                pair.server.receive((0 ..< n).map { _ in UInt8.random(in: 0 ... 255) })
            }
            pair.server.receive([])
            _ = pair.client.sendUnchecked([0x03, 0x00], on: 2, ppid: 50) // a truncated OPEN
            _ = pair.client.sendUnchecked([0x09], on: 4, ppid: 50)       // an unknown DCEP type
            _ = pair.client.sendUnchecked(Array("orphan".utf8), on: 6, ppid: 51) // data on no channel
            _ = pair.client.sendUnchecked([0], on: 6, ppid: 99)                  // unknown PPID
            _ = pair.client.open(label: "chat")
        }.wait()
        try waitUntil("the good channel opens") { pair.opened.count == 1 }
        try loop.submit { XCTAssertTrue(pair.client.send(Array("ok".utf8), isText: true, on: 0)) }.wait()
        try waitUntil("message after garbage") { pair.serverReceived.count == 1 }
        let refused = try loop.submit { pair.server.statistics.messagesRefused }.wait()
        XCTAssertEqual(refused, 4)
    }

    func testPeerClosingAChannelClosesOurs() throws {
        let pair = try makePair()
        try loop.submit { _ = pair.client.open(label: "a"); _ = pair.client.open(label: "b") }.wait()
        try waitUntil("both open") { pair.server.channels.count == 2 }
        try loop.submit { pair.client.close(stream: 0) }.wait()
        try waitUntil("server closed it") { pair.server.channels.count == 1 }
        XCTAssertEqual(try loop.submit { pair.server.channels[2]?.label }.wait(), "b")
        XCTAssertEqual(try loop.submit { pair.server.statistics.channelsOpen }.wait(), 1)
    }

    func testCloseAbortsThePeerAndFreesTheAssociations() throws {
        let pair = try makePair()
        let addresses = try loop.submit { [pair.server.associationForTests.address, pair.client.associationForTests.address] }.wait()
        XCTAssertTrue(addresses.allSatisfy { UsrSctpStack.shared.association(at: $0) != nil })
        try loop.submit { _ = pair.client.open(label: "chat") }.wait()
        try waitUntil("open") { pair.server.channels.count == 1 }
        try loop.submit { pair.server.close() }.wait()
        try waitUntil("client saw the abort") { pair.client.isClosed && pair.client.channels.isEmpty }
        XCTAssertNil(UsrSctpStack.shared.association(at: addresses[0]), "closed: unregistered at once")
        try loop.submit { pair.client.close() }.wait()
        XCTAssertTrue(addresses.allSatisfy { UsrSctpStack.shared.association(at: $0) == nil })
        // Closing twice, and using a closed session, is harmless.
        try loop.submit {
            pair.server.close()
            XCTAssertFalse(pair.server.send([1], isText: false, on: 0))
            XCTAssertNil(pair.server.open(label: "late"))
            pair.server.receive([1, 2, 3])
        }.wait()
    }
}

extension DataChannelSession {
    /// Test hook: a raw SCTP message that skips the session's checks.
    func sendUnchecked(_ data: [UInt8], on stream: UInt16, ppid: UInt32 = DataChannelPPID.binary.rawValue) -> SctpSendResult {
        associationForTests.send(stream: stream, ppid: ppid, data)
    }
}
