// What the Router needs of a connection, whatever carries it: a browser-grade WebRtcTransport (ICE/DTLS/SRTP over
// the UDP mux) or an in-process DirectTransport (the SIP bridge, which produces and consumes plain RTP).

import NIOCore

/// What the Router learns from a transport. Called on the transport's (= its router's) event loop.
protocol MediaTransportDelegate: AnyObject {
    func transportDidConnect(_ transport: MediaTransport)
    func transport(_ transport: MediaTransport, didReceiveRtp packet: UnsafeMutableRawBufferPointer)
    func transport(_ transport: MediaTransport, didReceiveRtcp packets: [RTCPPacket])
    func transportDidClose(_ transport: MediaTransport)
    /// A data channel message from the peer (WebRtcTransport with negotiated data channels only).
    func transport(_ transport: MediaTransport, didReceiveData data: [UInt8], isText: Bool, on channel: DataChannel)
    /// The peer opened a data channel.
    func transport(_ transport: MediaTransport, didOpen channel: DataChannel)
}

extension MediaTransportDelegate {
    func transport(_ transport: MediaTransport, didReceiveData data: [UInt8], isText: Bool, on channel: DataChannel) {}
    func transport(_ transport: MediaTransport, didOpen channel: DataChannel) {}
}

/// One connection of a room, confined to its router's loop.
protocol MediaTransport: AnyObject {
    var id: String { get }
    /// Sender SSRC of the RTCP feedback we originate (REMB, PLI, RR) on this connection.
    var rtcpSSRC: UInt32 { get }
    var isConnected: Bool { get }
    var delegate: MediaTransportDelegate? { get set }
    /// Sends one RTP packet that `write` puts into the buffer (returning its length, 0 to send nothing).
    func sendRtp(maxLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int)
    func sendRtcp(_ packets: [RTCPPacket])
    /// RFC 7675 for peers; never for in-process transports.
    func consentExpired(now: NIODeadline, timeout: TimeAmount) -> Bool
    func close()
}
