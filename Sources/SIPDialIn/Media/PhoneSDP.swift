// Offer/answer with phones (RFC 3264, plain RTP/AVP): pick a codec of the phone's list that we speak (wideband
// first, see `preferred`), keep its telephone-event payload type, and answer with our RTP address. Parsing uses the
// SFU's SDP value types.

import SFU

struct PhoneMediaFormat: Equatable, Sendable {
    var codec: PhoneCodec
    var payloadType: UInt8
    var telephoneEventPayloadType: UInt8?
}

enum PhoneSDPError: Error, Equatable {
    case noAudio
    case noCommonCodec
    case badConnection
}

/// What the phone's offer (or answer) says.
struct PhoneOffer: Equatable {
    var format: PhoneMediaFormat
    /// Where to send RTP (nil when the address is 0.0.0.0, the old way of saying hold).
    var host: String?
    var port: Int
    var direction: SDPDirection
}

enum PhoneSDP {
    static func parse(_ text: String) throws -> PhoneOffer {
        let sdp = try SessionDescription.parse(text)
        guard let audio = sdp.media.first(where: { $0.kind == "audio" && $0.port != 0 }) else { throw PhoneSDPError.noAudio }
        let codecs = audio.codecs
        var offered: [PhoneMediaFormat] = []
        for codec in codecs {
            switch (codec.name.lowercased(), codec.clockRate) {
            case ("pcmu", 8000): offered.append(PhoneMediaFormat(codec: .pcmu, payloadType: codec.payloadType))
            case ("pcma", 8000): offered.append(PhoneMediaFormat(codec: .pcma, payloadType: codec.payloadType))
            // RFC 3551: G.722's RTP clock is 8000 although it samples at 16 kHz; a `G722/16000` is a mistake we forgive.
            case ("g722", 8000), ("g722", 16000): offered.append(PhoneMediaFormat(codec: .g722, payloadType: codec.payloadType))
            case ("opus", 48000): offered.append(PhoneMediaFormat(codec: .opus, payloadType: codec.payloadType))
            default: break
            }
        }
        // Static payload types may come without rtpmap (RFC 3551): 0, 8 and 9 are enough on their own.
        let mapped = Set(codecs.map { String($0.payloadType) })
        for format in audio.formats where !mapped.contains(format) {
            switch format {
            case "0": offered.append(PhoneMediaFormat(codec: .pcmu, payloadType: 0))
            case "8": offered.append(PhoneMediaFormat(codec: .pcma, payloadType: 8))
            case "9": offered.append(PhoneMediaFormat(codec: .g722, payloadType: 9))
            default: break
            }
        }
        let chosen = preferred(offered, order: audio.formats)
        guard var format = chosen else { throw PhoneSDPError.noCommonCodec }
        format.telephoneEventPayloadType = codecs.first { $0.name.lowercased() == "telephone-event" && $0.clockRate == 8000 }?.payloadType
            ?? codecs.first { $0.name.lowercased() == "telephone-event" }?.payloadType
        guard let connection = audio.connection ?? sessionConnection(sdp) else { throw PhoneSDPError.badConnection }
        // c=IN IP4 <address>
        let parts = connection.split(separator: " ")
        guard parts.count >= 3, (1 ... 65535).contains(audio.port) else { throw PhoneSDPError.badConnection }
        let host = String(parts[2].split(separator: "/").first ?? "")
        let held = host == "0.0.0.0"
        return PhoneOffer(format: format, host: held ? nil : host, port: audio.port,
                          direction: held ? .inactive : (audio.direction ?? sessionDirection(sdp) ?? .sendrecv))
    }

    /// Wideband first: Opus or G.722, whichever the phone lists first, then G.711 in the phone's order. Phones often
    /// list PCMU first out of habit although they speak G.722; the room mixes at 16 kHz, and narrowband would throw
    /// half of every browser's voice away. Among equals the offer's order wins (RFC 3264 §6.1).
    static func preferred(_ offered: [PhoneMediaFormat], order: [String]) -> PhoneMediaFormat? {
        func rank(_ f: PhoneMediaFormat) -> (Int, Int) {
            let wideband = f.codec == .opus || f.codec == .g722
            return (wideband ? 0 : 1, order.firstIndex(of: String(f.payloadType)) ?? order.count)
        }
        return offered.min { rank($0) < rank($1) }
    }

    private static func sessionConnection(_ sdp: SessionDescription) -> String? {
        sdp.sessionLines.lazy.compactMap { if case .field("c", let v) = $0 { return v } else { return nil } }.first
    }

    private static func sessionDirection(_ sdp: SessionDescription) -> SDPDirection? {
        for attribute in sdp.sessionAttributes {
            switch attribute {
            case .direction(let d): return d
            default: continue
            }
        }
        return nil
    }

    /// Our answer: the chosen codec (and telephone-event when the phone has it), the direction mirrored.
    static func answer(to offer: PhoneOffer, host: String, port: Int, sessionID: UInt64, version: UInt64) -> String {
        let f = offer.format
        var formats = [String(f.payloadType)]
        var lines = ["a=rtpmap:\(f.payloadType) \(f.codec.rawValue)/\(f.codec.clockRate)\(f.codec == .opus ? "/2" : "")"]
        if f.codec == .opus { lines.append("a=fmtp:\(f.payloadType) useinbandfec=1") }
        if let te = f.telephoneEventPayloadType {
            formats.append(String(te))
            lines.append("a=rtpmap:\(te) telephone-event/8000")
            lines.append("a=fmtp:\(te) 0-16")
        }
        lines.append("a=ptime:20")
        lines.append("a=\(mirrored(offer.direction).rawValue)")
        return session(host: host, port: port, sessionID: sessionID, version: version, formats: formats, lines: lines)
    }

    /// Our offer for an INVITE without SDP (late offer): everything we speak.
    static func offer(host: String, port: Int, sessionID: UInt64, version: UInt64) -> String {
        session(host: host, port: port, sessionID: sessionID, version: version, formats: ["111", "9", "0", "8", "101"], lines: [
            "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1", "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv",
        ])
    }

    private static func session(host: String, port: Int, sessionID: UInt64, version: UInt64, formats: [String], lines: [String]) -> String {
        let family = host.contains(":") ? "IP6" : "IP4"
        return ([
            "v=0", "o=Rooms \(sessionID) \(version) IN \(family) \(host)", "s=Rooms", "c=IN \(family) \(host)", "t=0 0",
            "m=audio \(port) RTP/AVP \(formats.joined(separator: " "))",
        ] + lines).joined(separator: "\r\n") + "\r\n"
    }

    static func mirrored(_ d: SDPDirection) -> SDPDirection {
        switch d {
        case .sendonly: return .recvonly
        case .recvonly: return .sendonly
        default: return d
        }
    }
}
