// One ICE-TCP connection (RFC 6544; we are the passive side): RFC 4571 frames both ways. The first STUN binding
// request binds it to the transport its USERNAME names (by local ufrag, as the UDP mux routes STUN); from then on
// every frame of it goes to that transport, on the transport's loop. A frame that is not STUN, DTLS, RTP or RTCP, a
// broken length, or a request for an unknown ufrag closes this connection only.

import Logging
import NIOCore

final class IceTcpConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// The browser's end of the connection (its XOR-MAPPED-ADDRESS).
    let remoteAddress: SocketAddress?
    private let channel: Channel
    private let listener: IceTcpListener
    // Channel loop only, from here on.
    private let framer = NIOSingleStepByteToMessageProcessor(RFC4571Framer())
    private var transport: WebRtcTransport?
    private var bindingTimer: Scheduled<Void>?
    private var flushPending = false
    private var isOpen = false

    /// Why a connection is closed by us.
    private enum Rejection: Error {
        case notMedia, unknownUfrag, mediaBeforeBinding
    }

    init(channel: Channel, listener: IceTcpListener) {
        self.channel = channel
        self.remoteAddress = channel.remoteAddress
        self.listener = listener
    }

    // MARK: - Receiving (channel loop)

    func channelActive(context: ChannelHandlerContext) {
        isOpen = true
        guard listener.connectionOpened() else { return reject("too many connections") }
        // An idle or silent connection holds a descriptor: it gets a few seconds to name a transport.
        bindingTimer = context.eventLoop.scheduleTask(in: IceTcpListener.bindingTimeout) { [weak self] in
            guard let self, self.transport == nil else { return }
            self.reject("no binding request")
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try framer.process(buffer: unwrapInboundIn(data)) { try route($0) }
        } catch {
            reject("\(error)")
        }
    }

    private func route(_ frame: ByteBuffer) throws {
        listener.countFrame()
        let first = frame.getInteger(at: frame.readerIndex, as: UInt8.self) ?? 0 // frames are never empty
        let kind = DatagramKind(first: first, second: frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self))
        switch kind {
        case .unknown:
            throw Rejection.notMedia
        case .stun:
            let raw = Array(frame.readableBytesView) // a few per second per peer: allocation is fine
            if transport == nil {
                guard let message = try? STUNMessage.parse(raw), let username = message.username,
                      let ufrag = IceLite.localUfrag(ofUsername: username),
                      let named = listener.transport(forUfrag: ufrag) else { throw Rejection.unknownUfrag }
                transport = named
                bindingTimer?.cancel()
            }
            // The transport checks the rest (ufrag pair, integrity) and drops what fails, as for UDP.
            transport?.deliver { $0.receiveStun(raw, over: .tcp(self)) }
        case .dtls, .rtp, .rtcp:
            guard let transport else { throw Rejection.mediaBeforeBinding }
            transport.deliver { $0.receive(frame, kind: kind, over: .tcp(self)) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        bindingTimer?.cancel()
        if isOpen { listener.connectionClosed() }
        isOpen = false
        transport?.deliver { $0.tcpRouteClosed(self) }
        transport = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ECONNRESET and friends: the pair is gone; channelInactive tells the transport.
        context.close(promise: nil)
    }

    private func reject(_ reason: String) {
        listener.countRejection(reason: reason, from: remoteAddress)
        channel.close(promise: nil)
    }

    // MARK: - Sending (any loop)

    /// Queues one frame (length prefix included). False when the peer does not read fast enough: the packet is
    /// dropped (NACK/PLI repair it) instead of queueing media without bound.
    func send(_ frame: ByteBuffer) -> Bool {
        guard channel.isWritable else { return false }
        guard channel.eventLoop.inEventLoop else {
            channel.writeAndFlush(frame, promise: nil)
            return true
        }
        // On the connection's own loop (the default: one loop for sockets and rooms) the frames of one loop tick,
        // such as a keyframe to a subscriber, leave in one writev.
        channel.write(frame, promise: nil)
        if !flushPending {
            flushPending = true
            channel.eventLoop.execute { [self] in
                flushPending = false
                channel.flush()
            }
        }
        return true
    }

    /// Closes after what is queued (the DTLS close_notify of a closing transport) has been handed to the socket.
    func close() {
        channel.flush()
        channel.close(promise: nil)
    }
}

// Loop-confined: its mutable state is touched on the channel's loop only; `send` and `close` are thread-safe.
extension IceTcpConnection: @unchecked Sendable {}
