// RFC 4571 framing, as ICE-TCP (RFC 6544 §3) uses it: on a TCP stream every STUN message, DTLS record datagram,
// RTP and RTCP packet is preceded by its length as a 16-bit big-endian number. A pure value without I/O; the bytes
// of a frame not complete yet wait in the NIO single-step processor that drives it.

import NIOCore

/// Why a stream is not RFC 4571 framed media; the connection carrying it is closed.
enum RFC4571FramingError: Error, Equatable {
    /// No STUN message, DTLS record or RTP packet is empty: the peer does not speak ICE-TCP.
    case emptyFrame
    /// Longer than any packet we would accept over UDP (an HTTP request, a TLS hello, noise).
    case oversizedFrame(Int)
}

/// Splits a byte stream into frames (zero-copy slices of the received bytes).
struct RFC4571Framer: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    static let lengthPrefixSize = 2
    /// The same bound as a UDP datagram of the mux: media over TCP is not allowed to be larger.
    let maxFrameLength: Int

    init(maxFrameLength: Int = UdpMux.maxDatagram) {
        self.maxFrameLength = maxFrameLength
    }

    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return nil }
        // Judge the length before its frame has arrived: a lying prefix must not make us wait for 64 KiB.
        guard length > 0 else { throw RFC4571FramingError.emptyFrame }
        guard Int(length) <= maxFrameLength else { throw RFC4571FramingError.oversizedFrame(Int(length)) }
        guard buffer.readableBytes >= Self.lengthPrefixSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Self.lengthPrefixSize)
        return buffer.readSlice(length: Int(length))
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        // A frame cut off by the peer's close is lost, like a truncated datagram.
        try decode(buffer: &buffer)
    }

    // MARK: - Sending

    /// Starts an outgoing frame: room for the length in front of the packet that the caller writes next, so that
    /// a packet is built and sent in one buffer.
    static func reserveLengthPrefix(in buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(0))
    }

    /// Fills in the length reserved by `reserveLengthPrefix` (at the reader index) once the packet is written.
    /// False when the packet does not fit a frame (it is then not sent).
    static func sealLengthPrefix(of buffer: inout ByteBuffer) -> Bool {
        let length = buffer.readableBytes - lengthPrefixSize
        guard length > 0, length <= Int(UInt16.max) else { return false }
        buffer.setInteger(UInt16(length), at: buffer.readerIndex)
        return true
    }
}
