// The media side of one phone call: its RTP socket, the jitter buffer and decoder of what the phone says, the
// encoder of what it hears, and RFC 4733 digits. Driven every 20 ms by the IVR while the caller types the PIN,
// then by the room's mixer. Confined to its event loop (the SFU's, so a room's audio never changes threads).

import Logging
import NIOCore
import NIOPosix
import SFU

final class PhoneLeg {
    let id: String
    let eventLoop: EventLoop
    private(set) var format: PhoneMediaFormat
    private let channel: Channel
    private let logger: Logger
    /// Where RTP goes: the SDP's address until the phone's own packets show where it really is (symmetric RTP,
    /// which is what works behind NAT).
    private(set) var remote: SocketAddress?
    private var latched = false

    private var jitter = JitterBuffer()
    /// SSRC of the phone's audio stream (RFC 4733 events may come on another).
    private var audioSSRC: UInt32?
    private var decoder: AudioDecoder
    private var encoder: AudioEncoder
    private var packetizer: RtpPacketizer
    private var dtmf = DTMFDetector()
    private var inbound: [Float] = []
    private var outboundStarted = false

    /// A DTMF digit from RFC 4733 events.
    var onDigit: ((Character) -> Void)?
    private(set) var lastPacketAt = NIODeadline.now()
    /// The phone put us on hold (a=sendonly/inactive): silence is expected then, not a dead line.
    var onHold = false {
        // Resumed: the phone gets a whole RTP timeout from now to start talking again (the silence of the hold is
        // not a dead line; counting it hung up every hold longer than the timeout at the resume).
        didSet { if oldValue && !onHold { lastPacketAt = .now() } }
    }
    private(set) var packetsReceived = 0
    private(set) var packetsSent = 0
    private(set) var malformedPackets = 0

    var localPort: Int { channel.localAddress?.port ?? 0 }

    private init(id: String, eventLoop: EventLoop, channel: Channel, format: PhoneMediaFormat, remote: SocketAddress?,
                 logger: Logger) throws {
        self.id = id
        self.eventLoop = eventLoop
        self.channel = channel
        self.format = format
        self.remote = remote
        self.logger = logger
        decoder = try AudioDecoder(codec: format.codec)
        encoder = try AudioEncoder(codec: format.codec)
        packetizer = RtpPacketizer(payloadType: format.payloadType)
    }

    /// Binds an RTP socket (a port from `ports`, or any) on `eventLoop`.
    static func open(id: String, on eventLoop: EventLoop, host: String, ports: ClosedRange<Int>?, format: PhoneMediaFormat,
                     remote: SocketAddress?, logger: Logger) async throws -> PhoneLeg {
        let handler = LegHandler()
        let bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { $0.pipeline.addHandler(handler) }
        var channel: Channel?
        var lastError: Error?
        let candidates: [Int] = ports.map { range in
            // Even ports (RTP convention), starting at a random one so concurrent calls rarely collide.
            let evens = stride(from: range.lowerBound + range.lowerBound % 2, through: range.upperBound, by: 2).map { $0 }
            let start = Int.random(in: 0 ..< max(1, evens.count))
            return Array(evens[start...] + evens[..<start])
        } ?? [0]
        for port in candidates.prefix(200) {
            do { channel = try await bootstrap.bind(host: host, port: port).get(); break } catch { lastError = error }
        }
        guard let channel else { throw lastError ?? PhoneLegError.noPort }
        let leg = try await eventLoop.submit {
            try PhoneLeg(id: id, eventLoop: eventLoop, channel: channel, format: format, remote: remote, logger: logger)
        }.get()
        try await eventLoop.submit { handler.leg = leg }.get()
        return leg
    }

    // MARK: - From the phone

    fileprivate func receive(_ envelope: AddressedEnvelope<ByteBuffer>) {
        let datagram = envelope.data
        datagram.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 2, !RTP.isRtcp(bytes), let header = try? RTPHeaderView(bytes) else {
                if bytes.count >= 2 && RTP.isRtcp(bytes) { return } // rtcp-mux'ed reports: nothing to do with them
                malformedPackets += 1
                return
            }
            packetsReceived += 1
            lastPacketAt = .now()
            if !latched || remote != envelope.remoteAddress {
                // Latch on the first packet, and follow a phone whose address changes (re-INVITE, NAT rebinding).
                remote = envelope.remoteAddress
                latched = true
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[header.payloadRange])
            if header.payloadType == format.telephoneEventPayloadType {
                if let digit = dtmf.digit(ssrc: header.ssrc, timestamp: header.timestamp, payload: payload) { onDigit?(digit) }
            } else if header.payloadType == format.payloadType {
                if audioSSRC != header.ssrc {
                    // A new stream (resumed from hold, a PBX switching sources): its numbering has nothing to do
                    // with the old one's.
                    if audioSSRC != nil { jitter.restart() }
                    audioSSRC = header.ssrc
                }
                jitter.insert(sequence: header.sequenceNumber, payload: payload)
            } else if header.payloadType != 13 { // 13: comfort noise (RFC 3389) in pauses is fine; others are not
                malformedPackets += 1
            }
        }
    }

    /// 20 ms of what the phone said, at 16 kHz (silence while buffering or on hold).
    func pullFrame(into frame: inout [Float]) -> Bool {
        var playing = true
        while inbound.count < mixFrameSamples && playing {
            jitter.playOut { playout in
                switch playout {
                case .packet(let payload): decoder.decode(payload, appendingTo: &inbound)
                case .lost: decoder.decode(nil, appendingTo: &inbound)
                case .silent: playing = false
                }
            }
        }
        frame.removeAll(keepingCapacity: true)
        guard inbound.count >= mixFrameSamples else {
            frame.append(contentsOf: repeatElement(0, count: mixFrameSamples))
            return false
        }
        frame.append(contentsOf: inbound[0 ..< mixFrameSamples])
        inbound.removeFirst(mixFrameSamples)
        return true
    }

    // MARK: - To the phone

    /// Sends 20 ms (320 samples at 16 kHz) to the phone.
    func send(_ frame: ArraySlice<Float>) {
        guard let remote, channel.isActive else { return }
        let marker = !outboundStarted
        outboundStarted = true
        let ticks = format.codec.ticksPerFrame
        let channel = self.channel
        var sent = 0
        encoder.encode(frame) { payload in
            packetizer.packetize(payload, ticks: ticks, marker: marker) { packet in
                var buffer = channel.allocator.buffer(capacity: packet.count)
                buffer.writeBytes(UnsafeRawBufferPointer(packet))
                channel.write(AddressedEnvelope(remoteAddress: remote, data: buffer), promise: nil)
                sent += 1
            }
        }
        channel.flush()
        packetsSent += sent
    }

    /// A re-INVITE changed the codec: new coder state, same SSRC (the phone sees one stream with a new format).
    func reconfigure(_ newFormat: PhoneMediaFormat) throws {
        guard newFormat != format else { return }
        if newFormat.codec != format.codec {
            decoder = try AudioDecoder(codec: newFormat.codec)
            encoder = try AudioEncoder(codec: newFormat.codec)
            jitter = JitterBuffer()
            inbound.removeAll()
        }
        packetizer = RtpPacketizer(ssrc: packetizer.ssrc, payloadType: newFormat.payloadType)
        format = newFormat
        outboundStarted = false
    }

    /// The phone's address changed in a re-INVITE: send there until its packets say otherwise.
    func update(remote: SocketAddress?) {
        if let remote { self.remote = remote; latched = false }
    }

    func close() {
        channel.close(promise: nil)
    }
}

enum PhoneLegError: Error { case noPort }

private final class LegHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    var leg: PhoneLeg?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        leg?.receive(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP port unreachable and the like arrive here on UDP: not a reason to close the socket.
    }
}

// Loop-confined: all use happens on `eventLoop`.
extension PhoneLeg: @unchecked Sendable {}
