// A minimal WebRTC endpoint on one UDP socket: ICE checks towards the server's candidate (and answers to the
// server's own checks), DTLS in whichever role the SDP gives us, SRTP from the DTLS exporter. Media is counted,
// not decoded; a sample of it is decrypted to prove that what arrives is real SRTP for this connection.
//
// Threading: a peer lives on one event loop; every method runs on it (callers use `loop.submit`).
import NIOCore
import NIOPosix
import SFU

final class WebRtcPeer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Decrypt one RTP packet in this many: enough to catch wrong keys, cheap enough not to bound the receiver.
    static let decryptSampleInterval = 64
    /// Consent freshness (RFC 7675): Rooms closes a transport after 30 s without a valid check.
    static let consentInterval: TimeAmount = .seconds(5)
    static let checkRetransmission: TimeAmount = .milliseconds(200)

    let loop: EventLoop
    let local: LocalTransport
    private let certificate: DtlsCertificate
    private let channel: Channel

    private var remote: RemoteTransport?
    private var remoteAddress: SocketAddress?
    private var controlling = true
    private let tieBreaker = UInt64.random(in: 0 ... .max)
    private var pendingCheck: (id: [UInt8], sentAt: NIODeadline)?
    private var lastCheckAnsweredAt: NIODeadline?
    private var dtls: DtlsEndpoint?
    private var srtp: SrtpSession?
    private var connected: EventLoopPromise<Void>
    private(set) var failure: String?

    // What arrived; read on the loop.
    private(set) var rtpPackets = 0
    private(set) var rtpBytes = 0
    private(set) var rtcpPackets = 0
    /// Per SSRC received: loss is counted from sequence numbers like an RTCP receiver report, so that packets
    /// still queued in a busy server at the end of a window are not taken for lost.
    private var sequences: [SequenceTracker] = []
    private(set) var decryptedSamples = 0
    private(set) var decryptFailures = 0
    private(set) var sentPackets = 0
    var srtpProfile: SrtpProfile? { srtp?.profile }
    /// Packets the received streams' sequence numbers say were sent to us (RFC 3550 A.3 "expected").
    var expectedPackets: Int { sequences.reduce(0) { $0 + $1.expected } }
    var midExtensionID: UInt8? { remote?.midExtensionID }

    private init(loop: EventLoop, channel: Channel, certificate: DtlsCertificate, localAddress: String) {
        self.loop = loop
        self.channel = channel
        self.certificate = certificate
        self.connected = loop.makePromise()
        local = LocalTransport(ufrag: LocalTransport.randomToken(8), password: LocalTransport.randomToken(24),
                               fingerprint: certificate.fingerprintSHA256, address: localAddress,
                               port: channel.localAddress?.port ?? 0)
    }

    /// Opens the peer's socket (any port; large receive buffer and batched reads for the subscribers' fan-in).
    static func open(on loop: EventLoop, certificate: DtlsCertificate, localAddress: String) async throws -> WebRtcPeer {
        let channel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 2048))
            .bind(host: "0.0.0.0", port: 0).get()
        return try await loop.submit {
            let peer = WebRtcPeer(loop: loop, channel: channel, certificate: certificate, localAddress: localAddress)
            try channel.pipeline.syncOperations.addHandler(peer)
            return peer
        }.get()
    }

    /// Resolves when DTLS is done and SRTP keys are set; fails on a DTLS or ICE error.
    var connectedFuture: EventLoopFuture<Void> { connected.futureResult }

    /// Applies the server's SDP. `weOffered` decides the roles: the offerer is ICE-controlling (and always so
    /// against an ICE-lite server); the DTLS role follows a=setup (we answer "active").
    func setRemote(_ sdp: String, weOffered: Bool) throws {
        let description = try SessionDescription.parse(sdp)
        let remote = try RemoteTransport(description)
        guard let address = try? SocketAddress(ipAddress: remote.address, port: remote.port) else {
            throw LoadError.negotiation("bad candidate address \(remote.address)")
        }
        self.remote = remote
        remoteAddress = address
        controlling = weOffered || remote.iceLite
        let role: DtlsRole = weOffered ? (remote.setup == .active ? .server : .client) : .client
        dtls = try DtlsEndpoint(certificate: certificate, role: role, expectedRemoteFingerprint: remote.fingerprint)
        sendCheck()
    }

    /// Timers: ICE check retransmission, consent, DTLS retransmission. Called every few tens of ms.
    func tick(now: NIODeadline) {
        guard remote != nil, failure == nil else { return }
        if let answered = lastCheckAnsweredAt {
            if now - (pendingCheck?.sentAt ?? answered) >= Self.consentInterval { sendCheck() }
        } else if now - (pendingCheck?.sentAt ?? .distantPast) >= Self.checkRetransmission {
            sendCheck()
        }
        if let dtls, dtls.retransmissionTimeout == .zero {
            send(dtls.handleTimeout())
            if dtls.state == .failed { fail("DTLS handshake: \(dtls.failureReasons.joined(separator: "; "))") }
        }
    }

    /// Gives up on a peer that is not connected by now, saying how far it got.
    func giveUp(after timeout: TimeAmount) {
        guard srtp == nil else { return }
        let ice = lastCheckAnsweredAt == nil ? "no answer to our ICE checks" : "ICE checks answered"
        fail("not connected after \(timeout.nanoseconds / 1_000_000_000) s: \(ice), DTLS \(dtls.map { "\($0.role) \($0.state)" } ?? "not started")")
    }

    func close() {
        if let dtls { send(dtls.close()) }
        channel.close(promise: nil)
    }

    // MARK: - Sending media

    /// Protects and sends one RTP packet to the server.
    func sendRtp(_ packet: [UInt8]) {
        guard let srtp, let remoteAddress else { return }
        var packet = packet
        do { try srtp.protectRtp(&packet) } catch { return fail("SRTP protect: \(error)") }
        send(packet, to: remoteAddress)
        sentPackets += 1
    }

    // MARK: - Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let buffer = envelope.data
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        switch first {
        case 0 ... 3: receiveStun(Array(buffer.readableBytesView), from: envelope.remoteAddress)
        case 20 ... 63: receiveDtls(Array(buffer.readableBytesView))
        case 128 ... 191: receiveRtpOrRtcp(buffer)
        default: break
        }
    }

    private func receiveRtpOrRtcp(_ buffer: ByteBuffer) {
        guard let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) else { return }
        if RTP.isRtcp(packetType: second) { rtcpPackets += 1; return }
        rtpPackets += 1
        rtpBytes += buffer.readableBytes
        if let sequence = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self),
           let ssrc = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self) {
            if let index = sequences.firstIndex(where: { $0.ssrc == ssrc }) {
                sequences[index].receive(sequence)
            } else {
                sequences.append(SequenceTracker(ssrc: ssrc, first: sequence))
            }
        }
        guard rtpPackets % Self.decryptSampleInterval == 1, let srtp else { return }
        var packet = Array(buffer.readableBytesView)
        do {
            try srtp.unprotectRtp(&packet)
            decryptedSamples += 1
        } catch {
            decryptFailures += 1
        }
    }

    private func receiveStun(_ raw: [UInt8], from source: SocketAddress) {
        guard let message = try? STUNMessage.parse(raw), message.method == .binding else { return }
        switch message.messageClass {
        case .request:
            // The server's own checks (Janus runs full ICE) and its consent checks: answer with our password.
            guard let mapped = source.stunAddress else { return }
            send(STUNMessage.bindingSuccess(for: message, mappedAddress: mapped)
                .encode(integrityKey: Array(local.password.utf8)), to: source)
        case .successResponse:
            guard let remote, message.transactionID == pendingCheck?.id,
                  (try? STUNMessage.verifyIntegrity(raw, key: Array(remote.password.utf8))) == true else { return }
            pendingCheck = nil
            let first = lastCheckAnsweredAt == nil
            lastCheckAnsweredAt = .now()
            if first, let dtls, dtls.role == .client { send(dtls.start()) }
        case .errorResponse:
            if message.transactionID == pendingCheck?.id { fail("ICE check refused: \(message.attributes)") }
        default:
            break
        }
    }

    private func receiveDtls(_ raw: [UInt8]) {
        guard let dtls, failure == nil else { return }
        do {
            send(try dtls.feed(raw).datagrams)
        } catch {
            send(dtls.takeOutgoingDatagrams())
            if dtls.state == .failed { fail("DTLS: \(error) \(dtls.failureReasons.joined(separator: "; "))") }
            return
        }
        guard dtls.state == .connected, srtp == nil else { return }
        do {
            srtp = try SrtpSession(keys: try dtls.srtpKeyingMaterial(), role: dtls.role)
            connected.succeed(())
        } catch {
            fail("SRTP keys: \(error)")
        }
    }

    // MARK: - ICE checks

    private func sendCheck() {
        guard let remote, let remoteAddress else { return }
        let id = (0 ..< 12).map { _ in UInt8.random(in: 0 ... 255) }
        var attributes: [STUNAttribute] = [.username("\(remote.ufrag):\(local.ufrag)"), .priority(0x6E00_1EFF)]
        if controlling {
            // Aggressive nomination: our only candidate pair is the one to use.
            attributes += [.iceControlling(tieBreaker: tieBreaker), .useCandidate]
        } else {
            attributes.append(.iceControlled(tieBreaker: tieBreaker))
        }
        let request = STUNMessage(method: .binding, messageClass: .request, transactionID: id, attributes: attributes)
        pendingCheck = (id, .now())
        send(request.encode(integrityKey: Array(remote.password.utf8)), to: remoteAddress)
    }

    // MARK: - Plumbing

    private func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        connected.fail(LoadError.media(reason))
    }

    private func send(_ datagrams: [[UInt8]]) {
        guard let remoteAddress else { return }
        for datagram in datagrams { send(datagram, to: remoteAddress) }
    }

    private func send(_ bytes: [UInt8], to address: SocketAddress) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
    }
}

/// Extended highest sequence number of one received stream (wrap-around aware; reordering within ±32767).
struct SequenceTracker {
    let ssrc: UInt32
    private let first: Int64
    private var highest: Int64

    init(ssrc: UInt32, first sequence: UInt16) {
        self.ssrc = ssrc
        first = Int64(sequence)
        highest = first
    }

    var expected: Int { Int(highest - first + 1) }

    mutating func receive(_ sequence: UInt16) {
        let delta = Int16(bitPattern: sequence &- UInt16(truncatingIfNeeded: highest))
        if delta > 0 { highest += Int64(delta) }
    }
}

extension SocketAddress {
    /// The STUN (XOR-)MAPPED-ADDRESS form of an IPv4/IPv6 address.
    var stunAddress: STUNAddress? {
        switch self {
        case .v4(let a):
            return STUNAddress(ip: withUnsafeBytes(of: a.address.sin_addr) { Array($0) }, port: UInt16(port ?? 0))
        case .v6(let a):
            return STUNAddress(ip: withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }, port: UInt16(port ?? 0))
        default:
            return nil
        }
    }
}

// Loop-confined: every method runs on `loop` (callers hop there with `loop.submit`); the channel is thread-safe.
extension WebRtcPeer: @unchecked Sendable {}
