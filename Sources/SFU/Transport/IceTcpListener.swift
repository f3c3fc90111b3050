// The passive ICE-TCP side (RFC 6544) for networks that block UDP: a TCP listener on the media port whose
// connections carry the same STUN, DTLS, RTP and RTCP as the UDP socket, RFC 4571 framed. It shares the UDP mux's
// loop and its table of transports by local ufrag; each connection then hops to its transport's loop.

import Logging
import NIOCore
import NIOPosix

/// Counters of the ICE-TCP listener; read them through `SFUService.tcpStatistics()`.
public struct IceTcpStatistics: Sendable, Equatable {
    public var connectionsAccepted = 0
    public var connectionsOpen = 0
    /// Closed by us: broken framing, not media, an unknown ufrag, no binding request in time, or too many open.
    public var connectionsRejected = 0
    public var framesReceived = 0
}

final class IceTcpListener {
    /// A connection that has not named a transport by then is closed.
    static let bindingTimeout: TimeAmount = .seconds(10)
    /// Each connection holds a descriptor; a flood of idle ones must not take them all.
    static let maxConnections = 2048
    /// Media queued for one slow peer beyond this is dropped, not buffered (about 1.5 s at 2.5 Mbit/s).
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 256 << 10, high: 512 << 10)

    let eventLoop: EventLoop
    private let mux: UdpMux
    private let logger: Logger
    private var channel: Channel?
    private var stats = IceTcpStatistics()

    /// The bound address (port resolved when 0 was asked for).
    private(set) var localAddress: SocketAddress?

    init(mux: UdpMux, logger: Logger) {
        self.eventLoop = mux.eventLoop
        self.mux = mux
        self.logger = logger
    }

    func bind(host: String, port: Int) async throws {
        let channel = try await ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            // Media is latency-bound: Nagle would hold small packets (audio, RTCP) back for an ACK.
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IceTcpConnection(channel: channel, listener: self))
                }
            }
            .bind(host: host, port: port).get()
        self.channel = channel
        self.localAddress = channel.localAddress
    }

    func close() async {
        try? await channel?.close()
    }

    func statistics() async throws -> IceTcpStatistics {
        try await eventLoop.submit { self.stats }.get()
    }

    // MARK: - For connections (on the listener's loop)

    /// A connection became active; false when too many are open (it then closes itself).
    func connectionOpened() -> Bool {
        stats.connectionsAccepted += 1
        stats.connectionsOpen += 1
        return stats.connectionsOpen <= Self.maxConnections
    }

    func transport(forUfrag ufrag: Substring) -> WebRtcTransport? {
        mux.transport(forUfrag: String(ufrag))
    }

    func countFrame() { stats.framesReceived += 1 }

    func countRejection(reason: String, from address: SocketAddress?) {
        stats.connectionsRejected += 1
        logger.debug("ICE-TCP connection from \(address.map { "\($0)" } ?? "?") closed: \(reason)")
    }

    func connectionClosed() { stats.connectionsOpen -= 1 }
}

// Loop-confined: the counters are only touched on `eventLoop`; the channel is thread-safe.
extension IceTcpListener: @unchecked Sendable {}
