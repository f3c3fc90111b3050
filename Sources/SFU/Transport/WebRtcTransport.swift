// One browser-grade peer connection terminated by the server: ICE-lite + DTLS (we are the passive/server
// side, having answered the peer's actpass offer) + SRTP from the DTLS exporter. Decrypted RTP and RTCP go
// to the Router; what the Router sends is encrypted here and leaves by the route ICE selected: the shared UDP
// socket, or an ICE-TCP connection with RFC 4571 framing. When the SDP negotiated data channels, DTLS application
// data is SCTP (RFC 8261) for its DataChannelSession. Lives on its Router's event loop; never locked.

import Logging
import NIOCore

/// Counters of one transport (read on its loop).
public struct WebRtcTransportStatistics: Sendable, Equatable {
    public var rtpReceived = 0
    public var rtcpReceived = 0
    public var rtpSent = 0
    public var rtcpSent = 0
    /// SRTP/SRTCP authentication or replay failures, DTLS garbage and the like.
    public var packetsDiscarded = 0
    /// Packets not sent because the selected ICE-TCP connection had too much queued (the peer reads too slowly).
    public var packetsDroppedTcpBackpressure = 0
}

public final class WebRtcTransport: MediaTransport {
    public let id: String
    let eventLoop: EventLoop
    let localUfrag: String
    let localPassword: String
    /// The peer's ICE ufrag and DTLS fingerprint from its first offer: a later offer with both unchanged renegotiates
    /// this connection (no ICE restart, same DTLS association).
    let remoteUfrag: String?
    let remoteFingerprint: String
    /// Sender SSRC of the RTCP feedback we originate (REMB, PLI, RR) on this connection.
    let rtcpSSRC = UInt32.random(in: 1 ... .max)
    weak var delegate: MediaTransportDelegate?
    public private(set) var statistics = WebRtcTransportStatistics()
    /// Who this connection belongs to (a channeling session id, `whip:<resource>`, ...): the data relay delivers a
    /// participant's messages to the others, never back to any of its own connections.
    var participant: String
    /// Data channels, when the SDP negotiated an m=application section; started once DTLS is up.
    private(set) var dataChannels: DataChannelSession?
    private(set) var isClosed = false
    private(set) var isConnected = false
    /// Where media goes now (nil before the first valid check and after the selected TCP connection closed).
    var selectedRoute: IceRoute? { ice.selectedRoute }

    private let mux: UdpMux
    private let logger: Logger
    let createdAt = NIODeadline.now()
    private var ice: IceLite
    private let dtls: DtlsEndpoint
    private var srtp: SrtpSession?
    private var dtlsTimer: Scheduled<Void>?
    private let allocator = ByteBufferAllocator()
    /// ICE-TCP connections bound to this transport by our ufrag; `checked` once a check on it passed: media is
    /// accepted only from those, as the UDP mux accepts it only from addresses ICE selected.
    private var tcpConnections: [(connection: IceTcpConnection, checked: Bool)] = []

    init(id: String, eventLoop: EventLoop, mux: UdpMux, certificate: DtlsCertificate, localUfrag: String,
         localPassword: String, remoteUfrag: String?, remoteFingerprint: String, logger: Logger) throws {
        self.id = id
        self.participant = id
        self.eventLoop = eventLoop
        self.mux = mux
        self.localUfrag = localUfrag
        self.localPassword = localPassword
        self.remoteUfrag = remoteUfrag
        self.remoteFingerprint = remoteFingerprint
        self.ice = IceLite(localUfrag: localUfrag, localPassword: localPassword, remoteUfrag: remoteUfrag)
        self.dtls = try DtlsEndpoint(certificate: certificate, role: .server, expectedRemoteFingerprint: remoteFingerprint)
        var logger = logger
        logger[metadataKey: "transport"] = "\(id)"
        self.logger = logger
    }

    /// Sets up the SCTP association for the negotiated m=application section (before the peer connects).
    func enableDataChannels(_ parameters: DataChannelParameters) throws {
        guard dataChannels == nil, !isClosed else { return }
        let session = try DataChannelSession(eventLoop: eventLoop, parameters: parameters, isDtlsServer: true, logger: logger) {
            [unowned self] packet in self.sendSctp(packet)
        }
        session.onMessage = { [unowned self] channel, isText, data in
            self.delegate?.transport(self, didReceiveData: data, isText: isText, on: channel)
        }
        session.onChannelOpen = { [unowned self] channel in self.delegate?.transport(self, didOpen: channel) }
        dataChannels = session
    }

    /// Runs `work` on this transport's loop: inline when already there (the common single-loop case).
    func deliver(_ work: @escaping (WebRtcTransport) -> Void) {
        if eventLoop.inEventLoop { work(self) } else { eventLoop.execute { work(self) } }
    }

    // MARK: - Receiving

    func receiveStun(_ raw: [UInt8], from source: SocketAddress) {
        receiveStun(raw, over: .udp(source))
    }

    func receiveStun(_ raw: [UInt8], over route: IceRoute) {
        if case .tcp(let connection) = route, !tcpConnections.contains(where: { $0.connection === connection }) {
            guard !isClosed else { return connection.close() }
            tcpConnections.append((connection, false))
        }
        guard !isClosed else { return }
        switch ice.handle(raw, over: route, now: .now()) {
        case .drop:
            statistics.packetsDiscarded += 1
        case .respond(let response, let selected):
            if case .tcp(let connection) = route, let i = tcpConnections.firstIndex(where: { $0.connection === connection }) {
                tcpConnections[i].checked = true
            }
            if selected {
                logger.debug("ICE selected \(route)")
                if case .udp(let address) = route { mux.select(address, for: self) }
            }
            send(over: route, capacity: response.count) { $0.writeBytes(response) }
        }
    }

    func receive(_ datagram: ByteBuffer, kind: DatagramKind, from source: SocketAddress) {
        receive(datagram, kind: kind, over: .udp(source))
    }

    /// DTLS, RTP or RTCP: from an address ICE selected (the mux checked), or over a checked ICE-TCP connection.
    func receive(_ datagram: ByteBuffer, kind: DatagramKind, over route: IceRoute) {
        guard !isClosed else { return }
        if case .tcp(let connection) = route,
           !tcpConnections.contains(where: { $0.connection === connection && $0.checked }) {
            statistics.packetsDiscarded += 1
            return
        }
        switch kind {
        case .dtls: receiveDtls(Array(datagram.readableBytesView))
        case .rtp: receiveRtp(datagram)
        case .rtcp: receiveRtcp(datagram)
        case .stun, .unknown: statistics.packetsDiscarded += 1
        }
    }

    private func receiveDtls(_ bytes: [UInt8]) {
        do {
            let output = try dtls.feed(bytes)
            sendDtls(output.datagrams)
            if dtls.isConnected && !dtlsEstablished { dtlsConnected() }
            for packet in output.applicationData {
                if let dataChannels { dataChannels.receive(packet) } else { statistics.packetsDiscarded += 1 }
            }
            // close_notify from the peer: its data channels are gone with it.
            if dtls.state == .closed { dataChannels?.close() }
        } catch DtlsError.malformedDatagram {
            statistics.packetsDiscarded += 1
        } catch {
            logger.info("DTLS failed: \(error)")
            sendDtls(dtls.takeOutgoingDatagrams())
            close()
            return
        }
        armDtlsTimer()
    }

    private var dtlsEstablished = false

    private func dtlsConnected() {
        dtlsEstablished = true
        do {
            do {
                let keys = try dtls.srtpKeyingMaterial()
                srtp = try SrtpSession(keys: keys, role: .server)
                logger.debug("DTLS connected, SRTP \(keys.profile)")
            } catch DtlsError.noSrtpProfileNegotiated where dataChannels != nil {
                logger.debug("DTLS connected without SRTP (data channels only)")
            }
            isConnected = true
            dataChannels?.start()
            delegate?.transportDidConnect(self)
        } catch {
            logger.info("SRTP setup failed: \(error)")
            close()
        }
    }

    /// Test hook (Router.simulatedIngressLossInterval): true drops the packet before SRTP, like network loss.
    var simulatedIngressDrop: ((UnsafeRawBufferPointer) -> Bool)?

    private func receiveRtp(_ datagram: ByteBuffer) {
        guard let srtp else { statistics.packetsDiscarded += 1; return }
        var datagram = datagram
        datagram.withUnsafeMutableReadableBytes { buffer in
            if let drop = simulatedIngressDrop, drop(UnsafeRawBufferPointer(buffer)) { return }
            // Decrypt in place (the receive buffer is ours), then hand the plain packet on without copying.
            guard let length = try? srtp.unprotectRtp(buffer, length: buffer.count) else {
                statistics.packetsDiscarded += 1
                return
            }
            statistics.rtpReceived += 1
            delegate?.transport(self, didReceiveRtp: UnsafeMutableRawBufferPointer(rebasing: buffer[0 ..< length]))
        }
    }

    private func receiveRtcp(_ datagram: ByteBuffer) {
        guard let srtp else { statistics.packetsDiscarded += 1; return }
        var bytes = Array(datagram.readableBytesView) // RTCP is a few packets per second: allocation is fine
        guard (try? srtp.unprotectRtcp(&bytes)) != nil, let packets = try? RTCP.parseCompound(bytes) else {
            statistics.packetsDiscarded += 1
            return
        }
        statistics.rtcpReceived += 1
        delegate?.transport(self, didReceiveRtcp: packets)
    }

    // MARK: - Sending

    /// Sends one RTP packet that `write` puts into the buffer (returning its length, 0 to send nothing);
    /// the packet is encrypted in place in the same buffer, which then goes to the socket.
    func sendRtp(maxLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        guard let srtp, let route = ice.selectedRoute, !isClosed else { return }
        let capacity = maxLength + SrtpSession.maxRtpTrailerLength
        let sent = send(over: route, capacity: capacity) { buffer in
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { raw in
                let length = write(raw)
                guard length > 0 else { return 0 }
                return (try? srtp.protectRtp(raw, length: length)) ?? 0
            }
        }
        if sent { statistics.rtpSent += 1 }
    }

    func sendRtcp(_ packets: [RTCPPacket]) {
        guard let srtp, let route = ice.selectedRoute, !isClosed, !packets.isEmpty,
              var bytes = try? RTCP.serialize(packets), (try? srtp.protectRtcp(&bytes)) != nil else { return }
        if send(over: route, capacity: bytes.count, { $0.writeBytes(bytes) }) { statistics.rtcpSent += 1 }
    }

    /// One SCTP packet of the data channels, as one DTLS record.
    private func sendSctp(_ packet: [UInt8]) {
        guard dtls.isConnected, let datagrams = try? dtls.send(packet) else { return }
        sendDtls(datagrams)
    }

    private func sendDtls(_ datagrams: [[UInt8]]) {
        guard let route = ice.selectedRoute else { return }
        for datagram in datagrams {
            send(over: route, capacity: datagram.count) { $0.writeBytes(datagram) }
        }
    }

    /// Builds one packet with `fill` in a buffer laid out for `route` (over TCP: its RFC 4571 length in front) and
    /// sends it; one buffer per packet, no copy. False when nothing was sent.
    @discardableResult
    private func send(over route: IceRoute, capacity: Int, _ fill: (inout ByteBuffer) -> Void) -> Bool {
        switch route {
        case .udp(let address):
            var buffer = allocator.buffer(capacity: capacity)
            fill(&buffer)
            guard buffer.readableBytes > 0 else { return false }
            mux.send(buffer, to: address)
        case .tcp(let connection):
            var buffer = allocator.buffer(capacity: RFC4571Framer.lengthPrefixSize + capacity)
            RFC4571Framer.reserveLengthPrefix(in: &buffer)
            fill(&buffer)
            guard RFC4571Framer.sealLengthPrefix(of: &buffer) else { return false }
            guard connection.send(buffer) else {
                statistics.packetsDroppedTcpBackpressure += 1
                return false
            }
        }
        return true
    }

    /// DtlsEndpoint has no clock: retransmit lost handshake flights when its timer says so.
    private func armDtlsTimer() {
        dtlsTimer?.cancel()
        dtlsTimer = nil
        guard let timeout = dtls.retransmissionTimeout else { return }
        let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        dtlsTimer = eventLoop.scheduleTask(in: .nanoseconds(max(nanoseconds, 1_000_000))) { [weak self] in
            guard let self, !self.isClosed else { return }
            self.sendDtls(self.dtls.handleTimeout())
            if self.dtls.state == .failed { self.close() } else { self.armDtlsTimer() }
        }
    }

    // MARK: - Life cycle

    /// An ICE-TCP connection of this transport closed. If it carried the media, the peer has to nominate another
    /// pair (its next valid check on any route selects it); without one, consent expires and the transport closes.
    func tcpRouteClosed(_ connection: IceTcpConnection) {
        tcpConnections.removeAll { $0.connection === connection }
        guard !isClosed, ice.selectedRoute == .tcp(connection) else { return }
        logger.debug("selected ICE-TCP connection closed; waiting for another pair")
        ice.routeFailed(.tcp(connection))
    }

    /// RFC 7675: no valid check for `timeout` means the peer is gone (or never came).
    func consentExpired(now: NIODeadline, timeout: TimeAmount) -> Bool {
        ice.consentExpired(now: now, createdAt: createdAt, timeout: timeout)
    }

    func close() {
        guard !isClosed else { return }
        dataChannels?.close() // its ABORT still goes out inside DTLS
        sendDtls(dtls.close())
        isClosed = true
        dtlsTimer?.cancel()
        mux.unregister(self)
        for (connection, _) in tcpConnections { connection.close() }
        tcpConnections = []
        logger.debug("transport closed")
        delegate?.transportDidClose(self)
    }
}

// Loop-confined: used only on its Router's loop; other threads reach it through `deliver`.
extension WebRtcTransport: @unchecked Sendable {}
