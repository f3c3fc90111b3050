// The SDP this client writes, and what it needs from the server's. Written as text (like a browser's) rather than
// through SFU's SDP types so that it reads as what goes on the wire; the server's SDP is parsed with SFU's parser.
import SFU

/// The media this client negotiates: Opus and VP8, BUNDLEd, rtcp-mux, the MID header extension on both.
enum MediaFormat {
    static let opusPayloadType: UInt8 = 111
    static let vp8PayloadType: UInt8 = 96
    /// The id we offer for urn:ietf:params:rtp-hdrext:sdes:mid (Chrome uses 4 as well).
    static let midExtensionID = 4
    static let midURI = "urn:ietf:params:rtp-hdrext:sdes:mid"
}

/// Our half of the transport: ICE credentials, DTLS fingerprint and the one host candidate.
struct LocalTransport {
    var ufrag: String
    var password: String
    var fingerprint: String
    var address: String
    var port: Int

    static func randomToken(_ length: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0 ..< length).map { _ in alphabet.randomElement()! })
    }

    func lines(setup: SDPSetup) -> [String] {
        [
            "a=ice-ufrag:\(ufrag)",
            "a=ice-pwd:\(password)",
            "a=fingerprint:sha-256 \(fingerprint)",
            "a=setup:\(setup.rawValue)",
            "a=candidate:1 1 udp 2130706431 \(address) \(port) typ host",
            "a=end-of-candidates",
        ]
    }
}

/// What the publisher sends, to describe in its offer.
struct PublishedStreams {
    var audioSSRC: UInt32
    var videoSSRC: UInt32
}

enum LocalDescription {
    /// A publisher's offer (sendonly, with SSRCs) or a WHEP viewer's offer (recvonly): audio mid 0, video mid 1.
    static func offer(_ transport: LocalTransport, publishing streams: PublishedStreams?) -> String {
        let direction = streams == nil ? "recvonly" : "sendonly"
        var sdp = [
            "v=0", "o=- \(UInt32.random(in: 1 ... .max)) 2 IN IP4 127.0.0.1", "s=sfuload", "t=0 0",
            "a=group:BUNDLE 0 1", "a=msid-semantic: WMS sfuload",
        ]
        let audio = (kind: "audio", mid: "0", pt: MediaFormat.opusPayloadType, ssrc: streams?.audioSSRC,
                     codec: ["a=rtpmap:111 opus/48000/2", "a=fmtp:111 minptime=10;useinbandfec=1"])
        let video = (kind: "video", mid: "1", pt: MediaFormat.vp8PayloadType, ssrc: streams?.videoSSRC,
                     codec: ["a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:96 ccm fir"])
        for m in [audio, video] {
            sdp += ["m=\(m.kind) 9 UDP/TLS/RTP/SAVPF \(m.pt)", "c=IN IP4 0.0.0.0"]
            sdp += transport.lines(setup: .actpass)
            sdp += ["a=mid:\(m.mid)", "a=extmap:\(MediaFormat.midExtensionID) \(MediaFormat.midURI)",
                    "a=\(direction)", "a=rtcp-mux"]
            sdp += m.codec
            if let ssrc = m.ssrc {
                sdp += ["a=msid:sfuload \(m.kind)0", "a=ssrc:\(ssrc) cname:sfuload", "a=ssrc:\(ssrc) msid:sfuload \(m.kind)0"]
            }
        }
        return sdp.joined(separator: "\r\n") + "\r\n"
    }

    /// A recvonly answer to a server's offer (Janus subscribers): every audio/video m-line it offers with Opus or
    /// VP8 is accepted, the rest rejected. We answer setup:active, so we are the DTLS client.
    static func answer(to offer: SessionDescription, _ transport: LocalTransport) throws -> String {
        var sdp = ["v=0", "o=- \(UInt32.random(in: 1 ... .max)) 2 IN IP4 127.0.0.1", "s=sfuload", "t=0 0"]
        var accepted: [String] = []
        var sections: [String] = []
        for (index, offered) in offer.media.enumerated() {
            let mid = offered.mid ?? String(index)
            let codec = offered.codecs.first { codec in
                let name = codec.name.lowercased()
                return (offered.kind == "audio" && name == "opus") || (offered.kind == "video" && name == "vp8")
            }
            guard offered.port != 0, let codec else {
                sections += ["m=\(offered.kind) 0 \(offered.proto) \(offered.formats.first ?? "0")", "c=IN IP4 0.0.0.0",
                             "a=mid:\(mid)", "a=inactive"]
                continue
            }
            accepted.append(mid)
            sections += ["m=\(offered.kind) 9 \(offered.proto) \(codec.payloadType)", "c=IN IP4 0.0.0.0"]
            sections += transport.lines(setup: .active)
            sections += ["a=mid:\(mid)", "a=recvonly", "a=rtcp-mux"]
            if let midID = offered.extensionID(MediaFormat.midURI) { sections.append("a=extmap:\(midID) \(MediaFormat.midURI)") }
            let channels = codec.channels.map { "/\($0)" } ?? ""
            sections.append("a=rtpmap:\(codec.payloadType) \(codec.name)/\(codec.clockRate)\(channels)")
            if !codec.fmtp.isEmpty { sections.append("a=fmtp:\(codec.payloadType) \(codec.fmtp)") }
        }
        guard !accepted.isEmpty else { throw LoadError.negotiation("the server's offer has no Opus or VP8 m-line") }
        sdp += ["a=group:BUNDLE \(accepted.joined(separator: " "))", "a=msid-semantic: WMS *"]
        return (sdp + sections).joined(separator: "\r\n") + "\r\n"
    }
}

/// The server's transport, from its offer or answer (BUNDLE: the first accepted m-line speaks for all).
struct RemoteTransport {
    var ufrag: String
    var password: String
    var fingerprint: String
    var setup: SDPSetup?
    var iceLite: Bool
    var address: String
    var port: Int
    /// The MID extension id on our publisher's m-lines, if the server accepted it: audio mid "0", video mid "1".
    var midExtensionID: UInt8?

    init(_ description: SessionDescription) throws {
        guard let section = description.media.first(where: { $0.port != 0 }) else {
            throw LoadError.negotiation("the server accepted no m-line")
        }
        guard let ice = description.iceCredentials(of: section) else { throw LoadError.negotiation("no ICE credentials") }
        guard let fingerprint = description.fingerprint(of: section), fingerprint.hashFunction.lowercased() == "sha-256" else {
            throw LoadError.negotiation("no sha-256 fingerprint")
        }
        let candidates = description.media.flatMap(\.candidates)
        // UDP over IPv4, as both servers are bound here; the highest priority first, as ICE would try it.
        guard let candidate = candidates.filter({ $0.transport.lowercased() == "udp" && !$0.address.contains(":") })
            .max(by: { $0.priority < $1.priority }) else {
            throw LoadError.negotiation("no IPv4 UDP candidate in the server's SDP")
        }
        ufrag = ice.ufrag
        password = ice.pwd
        self.fingerprint = fingerprint.value
        setup = section.setup
        iceLite = description.isIceLite
        address = candidate.address
        port = Int(candidate.port)
        midExtensionID = section.extensionID(MediaFormat.midURI).flatMap { (1 ... 14).contains($0) ? UInt8($0) : nil }
    }
}

enum LoadError: Error, CustomStringConvertible {
    case negotiation(String)
    case signaling(String)
    case media(String)

    var description: String {
        switch self {
        case .negotiation(let s): return "negotiation: \(s)"
        case .signaling(let s): return "signaling: \(s)"
        case .media(let s): return "media: \(s)"
        }
    }
}
