// One producer forwarded to one subscriber connection. The subscriber sees its own SSRC, a continuous
// sequence number and timestamp line starting at random values, and its own payload type; header extensions are
// rebuilt with the subscriber's ids (its own MID, audio level/abs-send-time re-keyed, everything else dropped), and
// NACKs are answered as RTX when the subscriber negotiated it.
// With simulcast, one layer is forwarded at a time: the router sets `targetLayer`, and the consumer keeps forwarding
// the current layer until a keyframe of the target arrives, then switches there (StreamContinuity keeps the
// subscriber's stream seamless). Switching earlier would feed the decoder frames that reference a picture it never
// had: the classic freeze.

import NIOCore

public final class Consumer {
    public let id: String
    let producer: Producer
    let transport: MediaTransport
    /// The subscriber's payload type for the producer's codec.
    let payloadType: UInt8
    /// The SSRC announced to the subscriber in a=ssrc.
    public let ssrc: UInt32
    /// The subscriber's mid for this stream (kept across renegotiations).
    let mid: String
    /// Video starts at a keyframe: anything before it would not decode. Also while a layer switch waits for the
    /// target layer's keyframe.
    var waitingForKeyframe: Bool { switcher.waitingForKeyframe }
    private var needsKeyframe: Bool { switcher.needsKeyframe }

    /// The layer being forwarded (nil until the first keyframe), and the one wanted next.
    private var switcher: LayerSwitcher
    var currentLayer: Int? { switcher.currentLayer }
    var targetLayer: Int {
        get { switcher.targetLayer }
        set { switcher.targetLayer = newValue }
    }
    var preference = LayerPreference()
    /// Layer changes after the first (each at a keyframe of the new layer).
    var layerSwitches: Int { switcher.switches }
    var lastLayerChangeNanos: UInt64 { switcher.lastChangeNanos }
    private var history = SentPacketHistory()
    /// Subscriber NACKs for packets still on their way to the SFU (lost upstream too), answered on arrival.
    private var awaitedRepairs = AwaitedRepairs()
    /// Packets sent the moment they arrived because the subscriber had already asked for them.
    private(set) var repairsSentOnArrival = 0

    /// Test hook (see Router.simulatedForwardingLossInterval).
    var simulatedLossInterval: Int?
    private var forwardedCount = 0

    // For Sender Reports and RTT.
    private(set) var packetsSent: UInt32 = 0
    private(set) var octetsSent: UInt32 = 0
    private(set) var lastTimestamp: UInt32 = 0
    private(set) var lastSentAt: NIODeadline?
    /// Round-trip time to the subscriber from its receiver reports (RFC 3550 §6.4.1: now − LSR − DLSR).
    var roundTripMicros: Int?

    /// RFC 4588: retransmissions on their own SSRC and payload type, when negotiated.
    let rtx: (payloadType: UInt8, ssrc: UInt32)?
    private var rtxSequenceNumber = UInt16.random(in: 0 ... 0x7FFF)
    private(set) var rtxPacketsSent = 0

    /// The subscriber's mid and its MID extension id (0: not negotiated): every packet gets it (RFC 8843 §15).
    let midID: UInt8
    let midValue: [UInt8]
    /// Publisher extension id -> subscriber extension id (0: strip). Ids are per connection, so elements are
    /// re-keyed; elements the subscriber did not negotiate (transport-cc, the publisher's MID, rid, ...) are dropped.
    var extensionMap = [UInt8](repeating: 0, count: 16)

    init(id: String, producer: Producer, transport: MediaTransport, payloadType: UInt8, ssrc: UInt32,
         mid: String = "", extensionIDs: [String: UInt8] = [:], rtx: (payloadType: UInt8, ssrc: UInt32)? = nil) {
        self.rtx = rtx
        self.id = id
        self.producer = producer
        self.transport = transport
        self.payloadType = payloadType
        self.ssrc = ssrc
        self.mid = mid
        self.switcher = LayerSwitcher(needsKeyframe: producer.videoCodec != nil,
                                      targetLayer: producer.layers.count - 1)
        let midID = extensionIDs[RtpHeaderExtensionURI.mid] ?? 0
        let midValue = Array(mid.utf8)
        self.midID = (1 ... 14).contains(midID) && (1 ... 16).contains(midValue.count) ? midID : 0
        self.midValue = midValue
        for (uri, subscriberID) in extensionIDs where uri != RtpHeaderExtensionURI.mid {
            guard let publisherID = producer.headerExtensions[uri], (1 ... 14).contains(publisherID),
                  (1 ... 14).contains(subscriberID) else { continue }
            extensionMap[Int(publisherID)] = subscriberID
        }
    }

    convenience init(id: String, producer: Producer, transport: MediaTransport, track: SubscribedTrack) {
        self.init(id: id, producer: producer, transport: transport, payloadType: track.payloadType, ssrc: track.ssrc,
                  mid: track.mid, extensionIDs: track.extensionIDs, rtx: track.rtx)
    }

    /// One packet of the producer's `layer`; forwarded when that is the layer this subscriber gets.
    func forward(_ packet: UnsafeRawBufferPointer, header: RTPHeaderView, layer: Int, frame vp8: FrameDescriptor?,
                 nowNanos: UInt64) {
        guard transport.isConnected,
              let offsets = switcher.admit(layer: layer, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp,
                                           frame: vp8, clockRate: producer.codec.clockRate, nowNanos: nowNanos) else { return }
        let outSequence = offsets.sequenceNumber(header.sequenceNumber)
        history.record(outgoing: outSequence, incoming: header.sequenceNumber, layer: layer, offsets: offsets)
        if !awaitedRepairs.isEmpty, awaitedRepairs.take(outSequence, nowNanos: nowNanos) {
            // A repair from the publisher that the subscriber has NACKed already: it is that NACK's answer, as RTX when
            // negotiated (without RTX the packet on the media stream is the answer).
            repairsSentOnArrival += 1
            if let rtx {
                sendRtx(packet, rtx: rtx, offsets: offsets, vp8: vp8)
                return
            }
        }
        forwardedCount += 1
        if let interval = simulatedLossInterval, forwardedCount % interval == 0 { return }
        send(packet, offsets: offsets, vp8: vp8)
        packetsSent &+= 1
        octetsSent &+= UInt32(truncatingIfNeeded: header.payloadRange.count)
        lastTimestamp = offsets.timestamp(header.timestamp)
        lastSentAt = .uptimeNanoseconds(nowNanos)
    }

    /// Answers a subscriber's NACK (sequence numbers in the subscriber's numbering) from the cache of the layer each
    /// packet was forwarded from. A packet never forwarded because it is missing at the SFU too (and NACKed upstream)
    /// is remembered and sent when it arrives. Returns how many packets were resent, and how many are awaited.
    @discardableResult
    func retransmit(_ sequenceNumbers: [UInt16], nowNanos: UInt64) -> (resent: Int, awaited: Int) {
        var resent = 0, awaited = 0, looked = 0
        for outgoing in sequenceNumbers {
            guard let sent = history.lookup(outgoing), Int(sent.layer) < producer.layers.count else {
                // Bounded: a NACK names up to thousands of numbers, a few missing ones are all that can be awaited.
                if looked < Self.maxAwaitedLookups {
                    looked += 1
                    if awaitRepair(outgoing, nowNanos: nowNanos) { awaited += 1 }
                }
                continue
            }
            let found = producer.layers[Int(sent.layer)].cache.withPacket(sent.incoming) { packet -> Bool in
                guard let header = try? RTPHeaderView(packet) else { return false }
                let vp8 = producer.videoCodec.flatMap { FrameDescriptor(UnsafeRawBufferPointer(rebasing: packet[header.payloadRange]), codec: $0) }
                if let rtx {
                    sendRtx(packet, rtx: rtx, offsets: sent.offsets, vp8: vp8)
                } else {
                    send(packet, offsets: sent.offsets, vp8: vp8)
                }
                return true
            }
            if found == true { resent += 1 }
        }
        return (resent, awaited)
    }

    static let maxAwaitedLookups = 64

    /// Whether `outgoing` is a packet of the current layer that the SFU is still asking the publisher for; if so it is
    /// awaited. (Packets of a layer left behind are not: the subscriber's decoder restarted at the new keyframe.)
    private func awaitRepair(_ outgoing: UInt16, nowNanos: UInt64) -> Bool {
        guard let layer = currentLayer, layer < producer.layers.count, let offsets = switcher.currentOffsets else { return false }
        let incoming = outgoing &- offsets.sequenceNumber
        guard producer.layers[layer].loss.isMissing(incoming) else { return false }
        awaitedRepairs.insert(outgoing, nowNanos: nowNanos)
        return true
    }

    private func send(_ packet: UnsafeRawBufferPointer, offsets: StreamOffsets, vp8: FrameDescriptor?) {
        let ssrc = ssrc, payloadType = payloadType
        // Room for our MID element (1 + 16 bytes), the 4-byte extension header and padding to a word.
        transport.sendRtp(maxLength: packet.count + 24) { out in
            // Always rebuilt: even with nothing negotiated, the publisher's elements must not reach the
            // subscriber under ids it never agreed to.
            let length = writeRewritten(packet, into: out, offsets: offsets, vp8: vp8)
            guard length > 0 else { return 0 }
            let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< length])
            guard (try? RTP.setSSRC(ssrc, in: rewritten)) != nil, (try? RTP.setPayloadType(payloadType, in: rewritten)) != nil
            else { return 0 }
            return length
        }
    }

    /// An RTX packet (RFC 4588 §4): the rewritten packet on the RTX SSRC and payload type with its own sequence
    /// number, the original (subscriber-side) sequence number in front of the payload, padding dropped.
    private func sendRtx(_ packet: UnsafeRawBufferPointer, rtx: (payloadType: UInt8, ssrc: UInt32), offsets: StreamOffsets,
                         vp8: FrameDescriptor?) {
        rtxSequenceNumber &+= 1
        let rtxSequence = rtxSequenceNumber
        rtxPacketsSent += 1
        transport.sendRtp(maxLength: packet.count + 26) { out in
            let length = writeRewritten(packet, into: out, offsets: offsets, vp8: vp8)
            guard length > 0, let view = try? RTPHeaderView(UnsafeRawBufferPointer(rebasing: out[0 ..< length])) else { return 0 }
            let osn = view.sequenceNumber
            let payload = view.payloadRange
            guard payload.upperBound + 2 <= out.count else { return 0 }
            // Shift the payload two bytes up (padding, if any, is cut off) and put the OSN in front of it.
            let moved = UnsafeMutableRawBufferPointer(rebasing: out[(payload.lowerBound + 2) ..< (payload.upperBound + 2)])
            moved.copyMemory(from: UnsafeRawBufferPointer(rebasing: out[payload]))
            out[payload.lowerBound] = UInt8(truncatingIfNeeded: osn >> 8)
            out[payload.lowerBound + 1] = UInt8(truncatingIfNeeded: osn)
            out[0] &= ~0x20
            let total = payload.upperBound + 2
            let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< total])
            guard (try? RTP.rewrite(rewritten, ssrc: rtx.ssrc, sequenceNumber: rtxSequence, timestamp: view.timestamp,
                                    payloadType: rtx.payloadType)) != nil else { return 0 }
            return total
        }
    }

    /// The packet as the subscriber gets it: re-keyed extensions, sequence number, timestamp and VP8 picture ids
    /// in the subscriber's numbering (SSRC and payload type are the caller's, they differ for RTX).
    private func writeRewritten(_ packet: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                                offsets: StreamOffsets, vp8: FrameDescriptor?) -> Int {
        let length = Self.rekey(packet, into: out, midID: midID, midValue: midValue, extensionMap: extensionMap)
        guard length > 0, let header = try? RTPHeaderView(packet) else { return 0 }
        let rewritten = UnsafeMutableRawBufferPointer(rebasing: out[0 ..< length])
        guard (try? RTP.setSequenceNumber(offsets.sequenceNumber(header.sequenceNumber), in: rewritten)) != nil,
              (try? RTP.setTimestamp(offsets.timestamp(header.timestamp), in: rewritten)) != nil else { return 0 }
        if let vp8, producer.isSimulcast {
            // The payload (and padding) sits at the end of the copy, as long as in the original.
            let payloadStart = length - (packet.count - header.payloadRange.lowerBound)
            vp8.rewrite(UnsafeMutableRawBufferPointer(rebasing: out[payloadStart ..< length]),
                        pictureID: offsets.pictureID(vp8.pictureID ?? 0),
                        tl0PictureIndex: offsets.tl0PictureIndex(vp8.tl0PictureIndex ?? 0))
        }
        return length
    }

    /// The Sender Report for this stream: the RTP timestamp is extrapolated to `now` from the last packet.
    func senderReport(now: NIODeadline, wallClock: UInt64) -> RTCPSenderReport? {
        guard let lastSentAt else { return nil }
        let elapsed = Double((now - lastSentAt).nanoseconds) / 1e9
        let rtpNow = lastTimestamp &+ UInt32(truncatingIfNeeded: Int64(elapsed * Double(producer.codec.clockRate)))
        return RTCPSenderReport(ssrc: ssrc, ntpTimestamp: wallClock, rtpTimestamp: rtpNow,
                                packetCount: packetsSent, octetCount: octetsSent, reports: [])
    }
}
