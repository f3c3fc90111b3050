// The data channels of one peer connection (RFC 8831/8832) over its SCTP association: DCEP opens and acks,
// string/binary/empty messages by PPID, closing by stream reset, size limits both ways, counters.
// Loop-confined like the transport that owns it.

import Logging
import NIOCore

/// Counters of one connection's data channels (read on its loop).
public struct DataChannelStatistics: Sendable, Equatable {
    public var channelsOpen = 0
    public var channelsOpened = 0
    public var messagesReceived = 0
    public var bytesReceived = 0
    public var messagesSent = 0
    public var bytesSent = 0
    /// Messages not delivered to this peer: its send buffer was full, or the message exceeded its max-message-size.
    public var messagesDropped = 0
    /// Messages from this peer above our max-message-size (discarded), and DCEP or PPID violations.
    public var messagesRefused = 0
    public init() {}
}

/// What the SDP negotiated for the m=application section.
public struct DataChannelParameters: Sendable, Equatable {
    /// The peer's a=sctp-port (5000 if absent).
    public var remotePort: UInt16
    /// The peer's a=max-message-size: the largest message we may send it. RFC 8841 §6: absent means 64 KiB.
    public var remoteMaxMessageSize: Int

    public init(remotePort: UInt16 = 5000, remoteMaxMessageSize: Int = 65_536) {
        self.remotePort = remotePort
        self.remoteMaxMessageSize = remoteMaxMessageSize
    }
}

/// An open (or opening) data channel.
public struct DataChannel: Sendable, Equatable {
    public var stream: UInt16
    public var label: String
    public var `protocol`: String
    public var type: DataChannelType
    /// False for a channel we opened until the peer's DATA_CHANNEL_ACK arrives.
    public var isAcknowledged: Bool
}

final class DataChannelSession {
    /// The largest message we accept (our a=max-message-size).
    static let maxMessageSize = 262_144

    private var counters = DataChannelStatistics()
    /// Counters; messages too large for us (discarded by the association while arriving) count as refused.
    var statistics: DataChannelStatistics {
        var s = counters
        s.messagesRefused += association.oversizeMessagesDiscarded
        return s
    }
    private(set) var channels: [UInt16: DataChannel] = [:]
    let parameters: DataChannelParameters
    /// A message from the peer: its channel, whether it is text, and its bytes. Called on the loop.
    var onMessage: ((_ channel: DataChannel, _ isText: Bool, _ data: [UInt8]) -> Void)?
    /// A channel the peer opened. Called on the loop.
    var onChannelOpen: ((DataChannel) -> Void)?

    private let association: SctpAssociation
    /// RFC 8832 §6: the DTLS client uses even stream ids for the channels it opens, the server odd ones.
    private let isDtlsServer: Bool
    private var nextStream: UInt16
    private let logger: Logger

    /// - Parameter packetOut: where SCTP packets go (into the DTLS association).
    init(eventLoop: EventLoop, parameters: DataChannelParameters, isDtlsServer: Bool = true, logger: Logger,
         packetOut: @escaping ([UInt8]) -> Void) throws {
        self.parameters = parameters
        self.isDtlsServer = isDtlsServer
        nextStream = isDtlsServer ? 1 : 0
        self.logger = logger
        association = try SctpAssociation(eventLoop: eventLoop, remotePort: parameters.remotePort,
                                          maxMessageSize: Self.maxMessageSize, logger: logger)
        association.onPacket = packetOut
        association.onMessage = { [unowned self] stream, ppid, data in self.received(data, stream: stream, ppid: ppid) }
        association.onIncomingStreamsReset = { [unowned self] streams in self.peerReset(streams) }
        association.onStateChange = { [unowned self] state in
            if state == .closed { self.dropAllChannels() }
        }
    }

    var isConnected: Bool { association.state == .connected }
    var associationForTests: SctpAssociation { association }
    var oversizeMessagesDiscarded: Int { association.oversizeMessagesDiscarded }
    var isClosed: Bool { association.state == .closed }

    /// Starts the association once DTLS is up.
    func start() { association.start() }

    /// One DTLS application-data record: an SCTP packet.
    func receive(_ packet: [UInt8]) { association.receive(packet) }

    /// The open channels labelled `label`.
    func channels(labelled label: String) -> [DataChannel] {
        channels.values.filter { $0.label == label }.sorted { $0.stream < $1.stream }
    }

    /// Sends one message on `channel`. Returns false (and counts a drop) when it cannot go: too large for the peer,
    /// the association's send buffer full, or not connected.
    @discardableResult
    func send(_ data: [UInt8], isText: Bool, on stream: UInt16) -> Bool {
        guard let channel = channels[stream] else { return false }
        guard data.count <= parameters.remoteMaxMessageSize else {
            counters.messagesDropped += 1
            return false
        }
        let ppid: DataChannelPPID = data.isEmpty ? (isText ? .stringEmpty : .binaryEmpty) : (isText ? .string : .binary)
        let result = association.send(stream: stream, ppid: ppid.rawValue, data.isEmpty ? [0] : data,
                                      ordered: channel.type.ordered)
        guard result == .sent else {
            counters.messagesDropped += 1
            return false
        }
        counters.messagesSent += 1
        counters.bytesSent += data.count
        return true
    }

    /// Opens a channel towards the peer (DATA_CHANNEL_OPEN on our next free stream); usable at once (RFC 8832 §6:
    /// messages may follow the OPEN before the ACK). Nil when the association is not up or streams ran out.
    @discardableResult
    func open(label: String, protocol: String = "") -> DataChannel? {
        guard isConnected else { return nil }
        while channels[nextStream] != nil, nextStream < SctpAssociation.streams - 2 { nextStream += 2 }
        guard nextStream < SctpAssociation.streams, channels[nextStream] == nil else { return nil }
        let stream = nextStream
        nextStream += 2
        let message = DataChannelOpen(label: label, protocol: `protocol`)
        guard association.send(stream: stream, ppid: DataChannelPPID.dcep.rawValue, message.serialize()) == .sent else { return nil }
        let channel = DataChannel(stream: stream, label: label, protocol: `protocol`, type: .reliableOrdered, isAcknowledged: false)
        add(channel)
        return channel
    }

    /// Closes one channel: reset of our outgoing stream; the peer resets its own in turn.
    func close(stream: UInt16) {
        guard channels.removeValue(forKey: stream) != nil else { return }
        counters.channelsOpen = channels.count
        association.resetOutgoingStream(stream)
    }

    /// Ends the association (the transport is closing).
    func close() {
        dropAllChannels()
        association.close()
    }

    // MARK: - Receiving

    private func received(_ data: [UInt8], stream: UInt16, ppid rawPPID: UInt32) {
        guard let ppid = DataChannelPPID(rawValue: rawPPID) else {
            counters.messagesRefused += 1
            return
        }
        if ppid == .dcep { return receivedDCEP(data, stream: stream) }
        guard let channel = channels[stream] else {
            // Data on a stream no OPEN announced: RFC 8832 has no channel to deliver it to.
            counters.messagesRefused += 1
            return
        }
        if !channel.isAcknowledged {
            // RFC 8832 §6: the first message after our OPEN implies the peer accepted it.
            channels[stream]?.isAcknowledged = true
        }
        let payload = ppid.isEmpty ? [] : data
        counters.messagesReceived += 1
        counters.bytesReceived += payload.count
        onMessage?(channel, ppid.isText, payload)
    }

    private func receivedDCEP(_ data: [UInt8], stream: UInt16) {
        let message: DCEPMessage
        do {
            message = try DCEPMessage.parse(data)
        } catch {
            counters.messagesRefused += 1
            logger.debug("bad DCEP message on stream \(stream): \(error)")
            return
        }
        switch message {
        case .open(let open):
            // A stream of the parity we open from, or one already in use, is a protocol error: refuse it by reset.
            let peerParity: UInt16 = isDtlsServer ? 0 : 1
            guard stream % 2 == peerParity, channels[stream] == nil else {
                counters.messagesRefused += 1
                association.resetOutgoingStream(stream)
                return
            }
            _ = association.send(stream: stream, ppid: DataChannelPPID.dcep.rawValue, DataChannelAck.bytes)
            let channel = DataChannel(stream: stream, label: open.label, protocol: open.protocol, type: open.channelType,
                                      isAcknowledged: true)
            add(channel)
            logger.debug("data channel \(stream) '\(open.label)' opened by the peer")
            onChannelOpen?(channel)
        case .ack:
            guard channels[stream] != nil else { counters.messagesRefused += 1; return }
            channels[stream]?.isAcknowledged = true
        }
    }

    private func add(_ channel: DataChannel) {
        channels[channel.stream] = channel
        counters.channelsOpened += 1
        counters.channelsOpen = channels.count
    }

    /// The peer reset its outgoing streams (closed channels): reset ours, RFC 8831 §6.7.
    private func peerReset(_ streams: [UInt16]) {
        for stream in streams where channels.removeValue(forKey: stream) != nil {
            association.resetOutgoingStream(stream)
        }
        counters.channelsOpen = channels.count
    }

    private func dropAllChannels() {
        channels = [:]
        counters.channelsOpen = 0
    }
}
