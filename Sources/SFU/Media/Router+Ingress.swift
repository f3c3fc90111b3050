// The ingress packet path: every RTP packet from a publisher connection is stamped for transport-cc, mapped to its
// producer layer (binding SSRCs the offer did not name from the rid, repaired-rid or mid extension), restored from
// RTX to the original packet when it is a repair, and handed to the producer. No allocation, no locks.

import NIOCore

extension Router {
    static let transportCCInterval = TimeAmount.milliseconds(100)

    func route(_ packet: UnsafeMutableRawBufferPointer, in context: TransportContext) {
        let bytes = UnsafeRawBufferPointer(packet)
        guard let header = try? RTPHeaderView(bytes) else { return }
        let nowNanos = NIODeadline.now().uptimeNanoseconds
        // Every packet counts for the sender's estimate, padding probes and unknown SSRCs included.
        if context.transportCCID != 0, let range = header.extensionElement(id: context.transportCCID, in: bytes), range.count == 2 {
            let sequence = UInt16(bytes[range.lowerBound]) << 8 | UInt16(bytes[range.lowerBound + 1])
            context.transportCC.record(sequence, arrivalMicros: Int64(nowNanos / 1000))
            context.lastMediaSSRC = header.ssrc
        }
        guard let stream = context.streamsBySSRC[header.ssrc] ?? bind(header, bytes, in: context) else { return }
        let producer = stream.producer, layer = stream.layer
        guard stream.isRepair else {
            guard header.payloadType == producer.codec.payloadType else { return } // FEC/RED: not negotiated
            noteArrival(producer.receive(packet, header: header, layer: layer, nowNanos: nowNanos), producer: producer, layer: layer)
            return
        }
        guard let ssrc = layer.ssrc, let rtxPayloadType = producer.rtxPayloadType, header.payloadType == rtxPayloadType,
              let length = Self.unwrapRtx(packet, header: header, ssrc: ssrc, payloadType: producer.codec.payloadType),
              let restored = try? RTPHeaderView(UnsafeRawBufferPointer(rebasing: packet[0 ..< length])) else { return }
        let arrival = producer.receive(UnsafeMutableRawBufferPointer(rebasing: packet[0 ..< length]), header: restored,
                                       layer: layer, repaired: true, nowNanos: nowNanos)
        noteArrival(arrival, producer: producer, layer: layer)
    }

    /// RFC 4588 §4 in place: the original sequence number comes out of the first two payload bytes, the rest moves
    /// down over it, SSRC and payload type become the media stream's. Returns the new length; nil for padding-only
    /// packets (bandwidth probes) and runts.
    static func unwrapRtx(_ packet: UnsafeMutableRawBufferPointer, header: RTPHeaderView, ssrc: UInt32,
                          payloadType: UInt8) -> Int? {
        let payload = header.payloadRange
        guard payload.count > 2, let base = packet.baseAddress else { return nil }
        let original = UInt16(packet[payload.lowerBound]) << 8 | UInt16(packet[payload.lowerBound + 1])
        // Payload and padding together: the padding count in the last byte stays valid.
        (base + payload.lowerBound).copyMemory(from: base + payload.lowerBound + 2, byteCount: packet.count - payload.lowerBound - 2)
        let length = packet.count - 2
        let restored = UnsafeMutableRawBufferPointer(rebasing: packet[0 ..< length])
        guard (try? RTP.rewrite(restored, ssrc: ssrc, sequenceNumber: original, timestamp: header.timestamp,
                                payloadType: payloadType)) != nil else { return nil }
        return length
    }

    /// An SSRC the offer did not announce: bound to a simulcast layer by its rid (or repaired rid), else to the
    /// single-layer producer whose mid (or, lacking that, payload type) it carries.
    private func bind(_ header: RTPHeaderView, _ bytes: UnsafeRawBufferPointer, in context: TransportContext) -> IncomingStream? {
        let midRange = context.midID != 0 ? header.extensionElement(id: context.midID, in: bytes) : nil
        func midMatches(_ producer: Producer) -> Bool {
            guard let midRange else { return true }
            return bytes[midRange].elementsEqual(producer.mid.utf8)
        }
        func bindByRid(_ id: UInt8, isRepair: Bool) -> IncomingStream? {
            guard id != 0, let ridRange = header.extensionElement(id: id, in: bytes) else { return nil }
            for producer in context.producers where midMatches(producer) {
                guard let layer = producer.layers.first(where: { $0.rid.map { bytes[ridRange].elementsEqual($0.utf8) } ?? false })
                else { continue }
                return bindSSRC(header.ssrc, producer: producer, layer: layer, isRepair: isRepair, in: context)
            }
            return nil
        }
        if let stream = bindByRid(context.ridID, isRepair: false) ?? bindByRid(context.repairedRidID, isRepair: true) {
            return stream
        }
        if midRange != nil {
            // A mid but no rid: the single stream (or its RTX) of a plain producer.
            for producer in context.producers where !producer.isSimulcast && midMatches(producer) {
                let layer = producer.layers[0]
                if header.payloadType == producer.codec.payloadType && layer.ssrc == nil {
                    return bindSSRC(header.ssrc, producer: producer, layer: layer, isRepair: false, in: context)
                }
                if header.payloadType == producer.rtxPayloadType && layer.rtxSSRC == nil {
                    return bindSSRC(header.ssrc, producer: producer, layer: layer, isRepair: true, in: context)
                }
            }
            return nil
        }
        // The offer named no SSRC and the packet no mid (possible with some clients): learn it by payload type.
        if let producer = context.producersByPayloadType[header.payloadType], producer.layers[0].ssrc == nil {
            return bindSSRC(header.ssrc, producer: producer, layer: producer.layers[0], isRepair: false, in: context)
        }
        return nil
    }

    private func bindSSRC(_ ssrc: UInt32, producer: Producer, layer: ProducerLayer, isRepair: Bool,
                          in context: TransportContext) -> IncomingStream {
        // A layer that changes SSRC (an encoder restart) drops its old binding.
        if let old = isRepair ? layer.rtxSSRC : layer.ssrc, old != ssrc { context.streamsBySSRC[old] = nil }
        if isRepair { layer.rtxSSRC = ssrc } else { layer.ssrc = ssrc }
        let stream = IncomingStream(producer: producer, layer: layer, isRepair: isRepair)
        context.streamsBySSRC[ssrc] = stream
        logger.debug("producer \(producer.id) layer \(layer.rid ?? String(layer.index)) \(isRepair ? "rtx " : "")ssrc \(ssrc)")
        return stream
    }

    /// Transport-cc feedback for every publisher connection that negotiated it (every `transportCCInterval`).
    func sendTransportCCFeedback() {
        for context in contexts.values where context.transportCCID != 0 && context.transport.isConnected {
            let feedback = context.transportCC.takeFeedback(senderSSRC: context.transport.rtcpSSRC,
                                                            mediaSSRC: context.lastMediaSSRC)
            for packet in feedback {
                statistics.transportCCFeedbackSent += 1
                context.transport.sendRtcp([.transportCC(packet)]) // one per datagram: each stays below the MTU
            }
        }
    }
}
