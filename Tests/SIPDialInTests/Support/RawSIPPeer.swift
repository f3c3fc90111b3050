// A hand-driven SIP peer over NIO (UDP socket or TCP connection) for tests that need byte-level control:
// malformed input, replayed credentials, keep-alives.

import Foundation
import NIOCore
import NIOPosix
@testable import SIPDialIn

final class RawSIPPeer: @unchecked Sendable {
    let channel: Channel
    let target: SocketAddress
    let isTCP: Bool
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private var closed = false

    private init(channel: Channel, target: SocketAddress, isTCP: Bool) {
        self.channel = channel
        self.target = target
        self.isTCP = isTCP
    }

    static func udp(group: EventLoopGroup, to port: Int) async throws -> RawSIPPeer {
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let box = PeerBox()
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector { box.peer?.append($0) }) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let peer = RawSIPPeer(channel: channel, target: target, isTCP: false)
        box.peer = peer
        return peer
    }

    static func tcp(group: EventLoopGroup, to port: Int) async throws -> RawSIPPeer {
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let box = PeerBox()
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamCollector(onData: { box.peer?.append($0) },
                                                                                   onClose: { box.peer?.markClosed() }))
                }
            }
            .connect(to: target).get()
        let peer = RawSIPPeer(channel: channel, target: target, isTCP: true)
        box.peer = peer
        return peer
    }

    final class PeerBox: @unchecked Sendable { var peer: RawSIPPeer? }

    var localPort: Int { channel.localAddress?.port ?? 0 }

    func send(_ bytes: [UInt8]) {
        let buffer = channel.allocator.buffer(bytes: bytes)
        if isTCP {
            channel.writeAndFlush(buffer, promise: nil)
        } else {
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer), promise: nil)
        }
    }

    private func append(_ bytes: [UInt8]) { lock.lock(); received.append(bytes); lock.unlock() }
    private func markClosed() { lock.lock(); closed = true; lock.unlock() }

    var isClosed: Bool { lock.lock(); defer { lock.unlock() }; return closed }
    var datagrams: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return received }
    /// Everything received as one byte string (TCP).
    var stream: [UInt8] { datagrams.flatMap { $0 } }

    /// Responses received so far (UDP: one per datagram; TCP: framed from the stream).
    var responses: [SIPResponse] {
        var framed: [[UInt8]] = datagrams
        if isTCP {
            var framer = SIPStreamFramer()
            framer.append(stream)
            framed = []
            while let frame = try? framer.next() { if case .message(let m) = frame { framed.append(m) } }
        }
        return framed.compactMap { bytes in
            if case .response(let r) = try? SIPParser.parse(bytes) { return r }
            return nil
        }
    }

    /// Requests received so far (UDP).
    var requests: [SIPRequest] {
        datagrams.compactMap { bytes in
            if case .request(let r) = try? SIPParser.parse(bytes) { return r }
            return nil
        }
    }

    func reply(to request: SIPRequest, status: Int) {
        send(SIPResponse(replyingTo: request, status: status).serialize())
    }

    func waitForResponse(status: Int, count: Int = 1, timeout: TimeInterval = 3) async -> SIPResponse? {
        _ = await eventually(timeout: timeout) { responses.filter { $0.status == status }.count >= count }
        return responses.filter { $0.status == status }.dropFirst(count - 1).first
    }

    func close() { channel.close(promise: nil) }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let onData: ([UInt8]) -> Void
        init(_ onData: @escaping ([UInt8]) -> Void) { self.onData = onData }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            onData(Array(unwrapInboundIn(data).data.readableBytesView))
        }
    }

    private final class StreamCollector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let onData: ([UInt8]) -> Void
        let onClose: () -> Void
        init(onData: @escaping ([UInt8]) -> Void, onClose: @escaping () -> Void) {
            self.onData = onData
            self.onClose = onClose
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            onData(Array(unwrapInboundIn(data).readableBytesView))
        }
        func channelInactive(context: ChannelHandlerContext) { onClose() }
    }
}

/// Builds a request as a phone would send it from `port`.
func rawRequest(_ method: String, port: Int, transport: String = "UDP", callID: String = UUID().uuidString, cseq: Int = 1,
                branch: String = "z9hG4bK" + UUID().uuidString.prefix(8), toTag: String? = nil, extra: [String] = [],
                body: String = "", uri: String = "sip:rooms@127.0.0.1") -> [UInt8] {
    var lines = [
        "\(method) \(uri) SIP/2.0",
        "Via: SIP/2.0/\(transport) 127.0.0.1:\(port);branch=\(branch);rport",
        "Max-Forwards: 70",
        "From: \"Raw\" <sip:raw@127.0.0.1:\(port)>;tag=rawtag",
        "To: <sip:rooms@127.0.0.1>" + (toTag.map { ";tag=\($0)" } ?? ""),
        "Call-ID: \(callID)",
        "CSeq: \(cseq) \(method)",
        "Contact: <sip:raw@127.0.0.1:\(port)\(transport == "TCP" ? ";transport=tcp" : "")>",
    ] + extra
    if !body.isEmpty { lines.append("Content-Type: application/sdp") }
    lines.append("Content-Length: \(body.utf8.count)")
    return wire(lines, body: body)
}
