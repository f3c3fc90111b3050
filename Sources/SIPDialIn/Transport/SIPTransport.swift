// The SIP transport layer (RFC 3261 §18) over SwiftNIO: one UDP socket, one TCP listener, and TCP
// connections kept per remote address so responses and later requests reuse them. It parses what arrives,
// stamps `received`/`rport` into the top Via of requests (RFC 3581 §4), answers requests it cannot parse
// with 400/416/505/513 when they carry enough headers to be answered, and hands the rest to `onMessage`.
// Everything runs on one event loop: the acceptor, the child channels and the owner share it.

import Logging
import NIOCore
import NIOPosix

public enum SIPTransportKind: String, Sendable, Hashable {
    case udp = "UDP"
    case tcp = "TCP"

    /// Unreliable transports retransmit (RFC 3261 §17).
    public var isReliable: Bool { self != .udp }

    /// From a `;transport=` URI parameter or a Via transport token.
    public init?(token: String) {
        switch token.lowercased() {
        case "udp": self = .udp
        case "tcp": self = .tcp
        default: return nil
        }
    }
}

/// A parsed message and where it came from.
struct SIPInbound {
    var message: SIPMessage
    var source: SocketAddress
    var kind: SIPTransportKind
}

/// Counters of the transport; read them on the loop or through `SIPUserAgent.transportStatistics()`.
public struct SIPTransportStatistics: Sendable, Equatable {
    public var messagesReceived = 0
    public var messagesSent = 0
    /// Unparsable input that could not be answered (UDP garbage, responses that do not parse).
    public var malformedDropped = 0
    /// Requests that did not parse but were answered 4xx/5xx.
    public var malformedAnswered = 0
    /// TCP connections closed because their stream could not be framed (too large, no Content-Length).
    public var connectionsClosedForFraming = 0
    public var keepAlivesReceived = 0
}

public enum SIPTransportError: Error, Equatable, CustomStringConvertible {
    case notStarted
    case unresolvable(String)
    case noListener(SIPTransportKind)

    public var description: String {
        switch self {
        case .notStarted: return "SIP transport not started"
        case .unresolvable(let host): return "cannot resolve '\(host)'"
        case .noListener(let kind): return "no \(kind.rawValue) listener"
        }
    }
}

final class SIPTransport {
    let eventLoop: EventLoop
    let limits: SIPParserLimits
    let logger: Logger
    var onMessage: ((SIPInbound) -> Void)?
    /// A TCP connection to this remote went away (the call layer ends calls that depended on it).
    var onConnectionClosed: ((SocketAddress) -> Void)?
    /// A UDP send was refused (ICMP port unreachable) for this remote.
    var onUnreachable: ((SocketAddress) -> Void)?

    private(set) var udpChannel: Channel?
    private(set) var tcpServer: Channel?
    private var connections: [SocketAddress: Channel] = [:]
    private var pendingConnects: [SocketAddress: EventLoopFuture<Channel>] = [:]
    private(set) var statistics = SIPTransportStatistics()

    init(eventLoop: EventLoop, limits: SIPParserLimits, logger: Logger) {
        self.eventLoop = eventLoop
        self.limits = limits
        self.logger = logger
    }

    var udpAddress: SocketAddress? { udpChannel?.localAddress }
    var tcpAddress: SocketAddress? { tcpServer?.localAddress }

    // MARK: - Lifecycle

    func start(udpHost: String?, udpPort: Int, tcpHost: String?, tcpPort: Int) -> EventLoopFuture<Void> {
        var futures: [EventLoopFuture<Void>] = []
        if let udpHost {
            let f = DatagramBootstrap(group: eventLoop)
                .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                // 64 KiB slots: no datagram is cut, so an oversized one is measured and answered 513.
                .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536 + 1))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(transport: self))
                    }
                }
                .bind(host: udpHost, port: udpPort)
                .map { self.udpChannel = $0 }
            futures.append(f)
        }
        if let tcpHost {
            let f = ServerBootstrap(group: eventLoop)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(StreamHandler(transport: self))
                    }
                }
                .bind(host: tcpHost, port: tcpPort)
                .map { self.tcpServer = $0 }
            futures.append(f)
        }
        return EventLoopFuture.andAllSucceed(futures, on: eventLoop)
    }

    func stop() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            var closing: [EventLoopFuture<Void>] = []
            for channel in [self.udpChannel, self.tcpServer].compactMap({ $0 }) + Array(self.connections.values) {
                closing.append(channel.close().recover { _ in })
            }
            self.udpChannel = nil
            self.tcpServer = nil
            self.connections.removeAll()
            return EventLoopFuture.andAllComplete(closing, on: self.eventLoop)
        }
    }

    // MARK: - Sending (on the loop)

    /// Sends to `address`; over TCP through an existing connection to that address or a new one.
    @discardableResult
    func send(_ message: SIPMessage, to address: SocketAddress, kind: SIPTransportKind) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        let bytes = message.serialize()
        statistics.messagesSent += 1
        if logger.logLevel <= .trace {
            logger.trace("sip send \(kind.rawValue) \(address)\n\(String(decoding: bytes, as: UTF8.self))")
        }
        switch kind {
        case .udp:
            guard let udpChannel else { return eventLoop.makeFailedFuture(SIPTransportError.noListener(.udp)) }
            let buffer = udpChannel.allocator.buffer(bytes: bytes)
            return udpChannel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer))
        case .tcp:
            return connection(to: address).flatMap { channel in
                channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
            }
        }
    }

    /// Sends a response to a request received from `source` (RFC 3261 §18.2.2, RFC 3581 §4): over TCP on the
    /// connection the request came on; over UDP to `received`:`rport` of the top Via (filled in on receipt).
    @discardableResult
    func sendResponse(_ response: SIPResponse, source: SocketAddress, kind: SIPTransportKind) -> EventLoopFuture<Void> {
        switch kind {
        case .tcp:
            if connections[source] != nil { return send(.response(response), to: source, kind: .tcp) }
            // The connection is gone: open one to the sent-by address (§18.2.2).
            guard let via = response.topVia, let target = try? Self.responseAddress(via: via, source: source) else {
                return eventLoop.makeFailedFuture(SIPTransportError.unresolvable("Via"))
            }
            return send(.response(response), to: target, kind: .tcp)
        case .udp:
            let target = response.topVia.flatMap { try? Self.responseAddress(via: $0, source: source) } ?? source
            return send(.response(response), to: target, kind: .udp)
        }
    }

    /// §18.2.2 for unreliable transports: received (or sent-by host) and rport (or sent-by port, or 5060).
    static func responseAddress(via: SIPVia, source: SocketAddress) throws -> SocketAddress {
        let host = via.received ?? via.host
        let port = via.rport ?? via.port ?? 5060
        if host == source.ipAddress, port == source.port { return source }
        return try resolve(host: host, port: port)
    }

    /// IP literals directly; names through the system resolver (blocking: configure IPs for peers on the hot path).
    static func resolve(host: String, port: Int) throws -> SocketAddress {
        if let a = try? SocketAddress(ipAddress: host, port: port) { return a }
        do { return try SocketAddress.makeAddressResolvingHost(host, port: port) } catch {
            throw SIPTransportError.unresolvable(host)
        }
    }

    private func connection(to address: SocketAddress) -> EventLoopFuture<Channel> {
        if let channel = connections[address], channel.isActive { return eventLoop.makeSucceededFuture(channel) }
        if let pending = pendingConnects[address] { return pending }
        let future = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StreamHandler(transport: self))
                }
            }
            .connect(to: address)
        pendingConnects[address] = future
        future.whenComplete { _ in self.pendingConnects[address] = nil }
        return future
    }

    // MARK: - Receiving (on the loop)

    fileprivate func connectionOpened(_ channel: Channel) {
        guard let remote = channel.remoteAddress else { return }
        connections[remote] = channel
    }

    fileprivate func connectionClosed(_ channel: Channel) {
        guard let remote = channel.remoteAddress, connections[remote] === channel else { return }
        connections[remote] = nil
        onConnectionClosed?(remote)
    }

    fileprivate func receiveDatagram(_ bytes: [UInt8], from source: SocketAddress) {
        // CRLF keep-alives over UDP (some phones send them): nothing to answer.
        if bytes.allSatisfy({ $0 == 13 || $0 == 10 }) {
            statistics.keepAlivesReceived += 1
            return
        }
        receive(bytes, from: source, kind: .udp)
    }

    fileprivate func receive(_ bytes: [UInt8], from source: SocketAddress, kind: SIPTransportKind) {
        let message: SIPMessage
        do {
            message = try SIPParser.parse(bytes, limits: limits)
        } catch let error as SIPParseError {
            answerMalformed(bytes, error: error, source: source, kind: kind)
            return
        } catch {
            statistics.malformedDropped += 1
            return
        }
        statistics.messagesReceived += 1
        if logger.logLevel <= .trace {
            logger.trace("sip recv \(kind.rawValue) \(source)\n\(String(decoding: bytes, as: UTF8.self))")
        }
        switch message {
        case .request(var request):
            guard var via = request.topVia else { return }
            Self.stampReceived(&via, source: source)
            request.replaceTopVia(via)
            onMessage?(SIPInbound(message: .request(request), source: source, kind: kind))
        case .response:
            onMessage?(SIPInbound(message: message, source: source, kind: kind))
        }
    }

    /// RFC 3261 §18.2.1 and RFC 3581 §4: `received` when the source differs from sent-by (or rport is asked
    /// for), and the source port in `rport` when asked for.
    static func stampReceived(_ via: inout SIPVia, source: SocketAddress) {
        guard let ip = source.ipAddress else { return }
        if via.host != ip || via.requestsRport { via.received = ip }
        if via.requestsRport, let port = source.port { via.rport = port }
    }

    /// A request that does not parse still gets an answer if its start line is a request and the headers
    /// needed to route a response are there; everything else is dropped (never answer a response).
    fileprivate func answerMalformed(_ bytes: [UInt8], error: SIPParseError, source: SocketAddress, kind: SIPTransportKind) {
        // The input is already bounded (one datagram, or a header block the framer cut): its lines and headers may be
        // as long and as many as it has bytes, so that a request with one absurd header line still gets its 400.
        var lenient = limits
        lenient.maxMessageSize = Int.max
        lenient.maxLineLength = max(limits.maxLineLength, bytes.count)
        lenient.maxHeaderCount = max(limits.maxHeaderCount, bytes.count / 2 + 1)
        guard let head = try? SIPParser.parseHead(bytes, limits: lenient), case .request(let method, _, _) = head.startLine,
              method != .ack,
              [SIPHeaderName.via, SIPHeaderName.from, SIPHeaderName.to, SIPHeaderName.callID, SIPHeaderName.cseq]
                .allSatisfy({ head.headers.contains($0) }) else {
            statistics.malformedDropped += 1
            logger.debug("sip dropped unparsable \(kind.rawValue) input from \(source): \(error)")
            return
        }
        statistics.malformedAnswered += 1
        logger.debug("sip answering \(error.status) to \(source): \(error)")
        let reason = SIPResponse.defaultReason(error.status) + " (\(error))"
        var response = SIPResponse(status: error.status, reason: Self.sanitizedReason(reason), copying: head.headers,
                                   toTag: nil)
        // Only the top Via is used for routing; stamp it so the answer reaches a NATed sender.
        if var via = response.topVia {
            Self.stampReceived(&via, source: source)
            response.replaceTopVia(via)
        } else {
            response.headers.remove(SIPHeaderName.via)
            send(.response(response), to: source, kind: kind)
            return
        }
        sendResponse(response, source: source, kind: kind)
    }

    /// Reason phrases carry no control characters and stay short.
    static func sanitizedReason(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(120).map(Character.init))
    }

    fileprivate func framingFailed(_ channel: Channel, error: Error) {
        statistics.connectionsClosedForFraming += 1
        logger.info("sip closing TCP connection from \(channel.remoteAddress.map { "\($0)" } ?? "?"): \(error)")
        channel.close(promise: nil)
    }

    fileprivate func keepAlivePing(_ channel: Channel) {
        statistics.keepAlivesReceived += 1
        channel.writeAndFlush(channel.allocator.buffer(bytes: [13, 10]), promise: nil)
    }

    fileprivate func udpError(_ error: Error) {
        // ICMP port unreachable after sending to a phone that went away; NIO reports it without the address.
        logger.debug("sip udp socket error: \(error)")
    }

    // MARK: - Channel handlers

    private final class DatagramHandler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let transport: SIPTransport
        init(transport: SIPTransport) { self.transport = transport }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            transport.receiveDatagram(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            transport.udpError(error)
        }
    }

    private final class StreamHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let transport: SIPTransport
        var framer: SIPStreamFramer
        init(transport: SIPTransport) {
            self.transport = transport
            self.framer = SIPStreamFramer(limits: transport.limits)
        }

        func channelActive(context: ChannelHandlerContext) {
            transport.connectionOpened(context.channel)
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            transport.connectionClosed(context.channel)
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            framer.append(buffer.readableBytesView)
            guard let remote = context.channel.remoteAddress else { return }
            do {
                while let frame = try framer.next() {
                    switch frame {
                    case .keepAlivePing: transport.keepAlivePing(context.channel)
                    case .message(let bytes): transport.receive(bytes, from: remote, kind: .tcp)
                    case .oversized(let head, let size):
                        transport.answerMalformed(head, error: .messageTooLarge(size: size, limit: transport.limits.maxMessageSize),
                                                  source: remote, kind: .tcp)
                    }
                }
            } catch {
                transport.framingFailed(context.channel, error: error)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}

// Loop-confined: the connection table, counters and callbacks are only touched on `eventLoop`
// (all channels are created on that same loop, so their handlers run there too).
extension SIPTransport: @unchecked Sendable {}
