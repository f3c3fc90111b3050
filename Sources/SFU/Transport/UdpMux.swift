// One UDP socket for every WebRTC transport of the server. STUN binding requests are routed by the
// local ufrag in their USERNAME (the only way to know a new peer); once ICE has picked the peer's address,
// DTLS and SRTP from that address go straight to its transport. Anything else is dropped and counted.

import Logging
import NIOCore
import NIOPosix

/// Counters of the mux; read them through `UdpMux.statistics()`.
public struct UdpMuxStatistics: Sendable, Equatable {
    public var datagramsReceived = 0
    /// Unclassifiable, unparsable, for an unknown ufrag, or from an address no transport has selected.
    public var datagramsDropped = 0
    public var stunRouted = 0
    /// Datagrams sent from the mux's own loop (all of them while rooms share that loop, the default).
    public var datagramsSent = 0
}

/// Owns the socket. Its routing tables belong to the socket's event loop: they are only touched there.
public final class UdpMux {
    let eventLoop: EventLoop
    private let logger: Logger
    private var channel: Channel?
    private var byUfrag: [String: WebRtcTransport] = [:]
    private var byAddress: [SocketAddress: WebRtcTransport] = [:]
    private var stats = UdpMuxStatistics()

    /// The bound address (port resolved when 0 was asked for).
    public private(set) var localAddress: SocketAddress?

    static let vectorReads = 16
    static let maxDatagram = 2048

    init(eventLoop: EventLoop, logger: Logger) {
        self.eventLoop = eventLoop
        self.logger = logger
    }

    func bind(host: String, port: Int) async throws {
        let channel = try await DatagramBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            // Media bursts (a keyframe to many subscribers) and floods must not overflow the kernel queue.
            .channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(ChannelOptions.socketOption(.so_sndbuf), value: 4 << 20)
            // recvmmsg: one syscall for up to `vectorReads` datagrams. NIO splits the receive buffer evenly
            // between them, so it holds `vectorReads` slots of `maxDatagram` bytes (larger datagrams are cut and
            // then fail authentication).
            .channelOption(ChannelOptions.recvAllocator,
                           value: FixedSizeRecvByteBufferAllocator(capacity: Self.vectorReads * Self.maxDatagram))
            .channelOption(ChannelOptions.datagramVectorReadMessageCount, value: Self.vectorReads)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Inbound(mux: self)) }
            }
            .bind(host: host, port: port).get()
        self.channel = channel
        self.localAddress = channel.localAddress
    }

    func close() async {
        try? await channel?.close()
    }

    /// Snapshot of the counters (taken on the mux's loop).
    public func statistics() async throws -> UdpMuxStatistics {
        try await eventLoop.submit { self.stats }.get()
    }

    // MARK: - Registration (from any thread; applied on the mux loop)

    func register(_ transport: WebRtcTransport) async throws {
        try await eventLoop.submit { self.byUfrag[transport.localUfrag] = transport }.get()
    }

    func unregister(_ transport: WebRtcTransport) {
        eventLoop.execute {
            if self.byUfrag[transport.localUfrag] === transport { self.byUfrag[transport.localUfrag] = nil }
            for (address, t) in self.byAddress where t === transport { self.byAddress[address] = nil }
        }
    }

    /// The transport whose local ufrag this is (ICE-TCP binds its connections with it). On the mux loop.
    func transport(forUfrag ufrag: String) -> WebRtcTransport? {
        eventLoop.preconditionInEventLoop()
        return byUfrag[ufrag]
    }

    /// ICE selected `address` for `transport`: DTLS and SRTP from there now belong to it.
    func select(_ address: SocketAddress, for transport: WebRtcTransport) {
        eventLoop.execute {
            guard self.byUfrag[transport.localUfrag] === transport else { return } // closed meanwhile
            self.byAddress[address] = transport
        }
    }

    // MARK: - Sending (from any loop; NIO hops to the channel's loop when needed)

    func send(_ buffer: ByteBuffer, to address: SocketAddress) {
        guard let channel else { return }
        if eventLoop.inEventLoop { stats.datagramsSent += 1 }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }

    // MARK: - Receiving (on the mux loop)

    fileprivate func receive(_ envelope: AddressedEnvelope<ByteBuffer>) {
        stats.datagramsReceived += 1
        let data = envelope.data
        guard let first = data.getInteger(at: data.readerIndex, as: UInt8.self) else { return drop() }
        let kind = DatagramKind(first: first, second: data.getInteger(at: data.readerIndex + 1, as: UInt8.self))
        let source = envelope.remoteAddress
        switch kind {
        case .unknown:
            drop()
        case .stun:
            // Parsing allocates, but STUN arrives a few times per second per peer, never at media rates.
            let raw = Array(data.readableBytesView)
            guard let message = try? STUNMessage.parse(raw), let username = message.username,
                  let ufrag = IceLite.localUfrag(ofUsername: username),
                  let transport = byUfrag[String(ufrag)] else { return drop() }
            stats.stunRouted += 1
            transport.deliver { $0.receiveStun(raw, from: source) }
        case .dtls, .rtp, .rtcp:
            guard let transport = byAddress[source] else { return drop() }
            transport.deliver { $0.receive(data, kind: kind, from: source) }
        }
    }

    private func drop() { stats.datagramsDropped += 1 }

    /// The channel handler: hands each datagram to the mux, never lets an error close the socket.
    private final class Inbound: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let mux: UdpMux
        init(mux: UdpMux) { self.mux = mux }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            mux.receive(unwrapInboundIn(data))
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            // ICMP port unreachable and friends surface here; a UDP server keeps serving.
            mux.logger.debug("udp socket error: \(error)")
        }
    }
}

// Loop-confined: the tables and counters are only touched on `eventLoop`; the channel is thread-safe.
extension UdpMux: @unchecked Sendable {}
