// RFC 7983 demultiplexing of one UDP port between STUN, DTLS and SRTP/SRTCP, by the first byte.

enum DatagramKind: Equatable {
    case stun, dtls, rtp, rtcp
    /// Not one of ours (ZRTP, TURN channel data, noise): dropped and counted.
    case unknown

    init(first: UInt8, second: UInt8?) {
        switch first {
        case 0...3: self = .stun
        case 20...63: self = .dtls
        case 128...191:
            // rtcp-mux (RFC 5761 §4): the RTCP packet type 192…223 sits where RTP has marker + payload type.
            guard let second else { self = .unknown; return }
            self = RTP.isRtcp(packetType: second) ? .rtcp : .rtp
        default: self = .unknown
        }
    }
}
