// An in-process connection of a room (mediasoup calls the same idea a DirectTransport): Swift code on the router's
// loop hands in plain RTP, which becomes the packets of this transport's producers, and receives in the clear what
// the router forwards to this transport's consumers. The SIP bridge uses one per phone (its audio and avatar video)
// and one per room as the audio tap of its mixer.

import NIOCore

public final class DirectTransport: MediaTransport {
    public let id: String
    public let eventLoop: EventLoop
    let rtcpSSRC = UInt32.random(in: 1 ... .max)
    weak var delegate: MediaTransportDelegate?
    /// A tap gets a consumer of every audio producer of the room except those of other direct transports (the
    /// bridge mixes its phones itself, from PCM it already has).
    public let tapsRoomAudio: Bool
    private(set) var isClosed = false
    var isConnected: Bool { !isClosed }

    /// Forwarded RTP, on the router's loop; the bytes are valid during the call only.
    public var onRtp: ((UnsafeRawBufferPointer) -> Void)?
    /// RTCP the router sends here (PLI/FIR for this transport's video producers: make a keyframe).
    public var onRtcp: (([RTCPPacket]) -> Void)?
    public var onClose: (() -> Void)?

    /// One reusable packet buffer: the router is single-threaded, so each send can write into the same memory.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)

    init(id: String, eventLoop: EventLoop, tapsRoomAudio: Bool) {
        self.id = id
        self.eventLoop = eventLoop
        self.tapsRoomAudio = tapsRoomAudio
    }

    deinit { scratch.deallocate() }

    /// An RTP packet of one of this transport's producers, as if it had arrived from a peer (on the router's loop).
    public func receive(rtp packet: UnsafeMutableRawBufferPointer) {
        eventLoop.preconditionInEventLoop()
        guard !isClosed else { return }
        delegate?.transport(self, didReceiveRtp: packet)
    }

    func sendRtp(maxLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) {
        guard !isClosed, let onRtp, maxLength <= scratch.count else { return }
        let length = write(UnsafeMutableRawBufferPointer(rebasing: scratch[0 ..< maxLength]))
        guard length > 0 else { return }
        onRtp(UnsafeRawBufferPointer(rebasing: scratch[0 ..< length]))
    }

    func sendRtcp(_ packets: [RTCPPacket]) {
        guard !isClosed, !packets.isEmpty else { return }
        onRtcp?(packets)
    }

    func consentExpired(now: NIODeadline, timeout: TimeAmount) -> Bool { false }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        delegate?.transportDidClose(self)
        onClose?()
        onRtp = nil
        onRtcp = nil
        onClose = nil
    }
}

// Loop-confined like every transport: used only on its router's loop.
extension DirectTransport: @unchecked Sendable {}

/// A track the SIP bridge (or any in-process source) produces into a room.
public struct DirectTrack: Sendable, Equatable {
    public var kind: MediaKind
    public var codec: RtpCodec
    public var ssrc: UInt32
    public var streamID: String
    public var trackID: String
    /// Header extensions the source writes: URI → id (the audio level lets the room see who speaks).
    public var headerExtensions: [String: UInt8]

    public init(kind: MediaKind, codec: RtpCodec, ssrc: UInt32, streamID: String, trackID: String,
                headerExtensions: [String: UInt8] = [:]) {
        self.kind = kind
        self.codec = codec
        self.ssrc = ssrc
        self.streamID = streamID
        self.trackID = trackID
        self.headerExtensions = headerExtensions
    }
}
