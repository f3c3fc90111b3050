// The Data Channel Establishment Protocol (RFC 8832) and the data channel payload identifiers (RFC 8831 §8).
// A channel is opened by a DATA_CHANNEL_OPEN on a fresh SCTP stream (PPID 50) and confirmed by DATA_CHANNEL_ACK on
// the same stream; after that, messages on the stream carry one of the string/binary PPIDs. Pure values, no I/O.

/// SCTP payload protocol identifiers of WebRTC data channels (RFC 8831 §8, RFC 8832 §8.1).
public enum DataChannelPPID: UInt32, Sendable, Equatable {
    case dcep = 50
    case string = 51
    /// Deprecated partial messages (never sent by current browsers); accepted like their complete forms.
    case binaryPartial = 52
    case binary = 53
    case stringPartial = 54
    /// An empty message cannot be an SCTP payload: it is sent as one zero byte with these PPIDs.
    case stringEmpty = 56
    case binaryEmpty = 57

    /// Whether a message with this PPID is text (as opposed to binary data or DCEP).
    public var isText: Bool { self == .string || self == .stringPartial || self == .stringEmpty }
    public var isEmpty: Bool { self == .stringEmpty || self == .binaryEmpty }
}

/// Reliability and ordering of a channel (RFC 8832 §5.1, Channel Type).
public struct DataChannelType: Sendable, Equatable {
    public enum Reliability: Sendable, Equatable {
        case reliable
        /// At most this many retransmissions.
        case maxRetransmits(UInt32)
        /// Retransmitted for at most this many milliseconds.
        case maxLifetimeMillis(UInt32)
    }

    public var reliability: Reliability
    public var ordered: Bool

    public static let reliableOrdered = DataChannelType(reliability: .reliable, ordered: true)

    public init(reliability: Reliability, ordered: Bool) {
        self.reliability = reliability
        self.ordered = ordered
    }

    /// The wire's type byte and reliability parameter.
    var wire: (type: UInt8, parameter: UInt32) {
        let unordered: UInt8 = ordered ? 0 : 0x80
        switch reliability {
        case .reliable: return (unordered, 0)
        case .maxRetransmits(let n): return (unordered | 0x01, n)
        case .maxLifetimeMillis(let ms): return (unordered | 0x02, ms)
        }
    }

    init(type: UInt8, parameter: UInt32) throws {
        ordered = type & 0x80 == 0
        switch type & 0x7F {
        case 0x00: reliability = .reliable
        case 0x01: reliability = .maxRetransmits(parameter)
        case 0x02: reliability = .maxLifetimeMillis(parameter)
        default: throw WireError.badValue("DCEP channel type \(type)")
        }
    }
}

/// DATA_CHANNEL_OPEN (RFC 8832 §5.1).
public struct DataChannelOpen: Sendable, Equatable {
    static let messageType: UInt8 = 0x03
    static let headerLength = 12

    public var channelType: DataChannelType
    public var priority: UInt16
    public var label: String
    public var `protocol`: String

    public init(channelType: DataChannelType = .reliableOrdered, priority: UInt16 = 256, label: String, protocol: String = "") {
        self.channelType = channelType
        self.priority = priority
        self.label = label
        self.protocol = `protocol`
    }

    /// - Throws: `WireError` when the bytes are not exactly one well-formed OPEN (label and protocol UTF-8, lengths
    ///   matching the message).
    public static func parse(_ bytes: [UInt8]) throws -> DataChannelOpen {
        var reader = ByteReader(bytes)
        guard try reader.u8("DCEP message type") == messageType else { throw WireError.badValue("not a DATA_CHANNEL_OPEN") }
        let type = try reader.u8("DCEP channel type")
        let priority = try reader.u16("DCEP priority")
        let parameter = try reader.u32("DCEP reliability parameter")
        let labelLength = Int(try reader.u16("DCEP label length"))
        let protocolLength = Int(try reader.u16("DCEP protocol length"))
        let label = try reader.slice(labelLength, "DCEP label")
        let proto = try reader.slice(protocolLength, "DCEP protocol")
        guard reader.isAtEnd else { throw WireError.badLength("DCEP bytes after the protocol") }
        guard let labelText = String(validating: label, as: UTF8.self),
              let protocolText = String(validating: proto, as: UTF8.self) else {
            throw WireError.badValue("DCEP label or protocol is not UTF-8")
        }
        return DataChannelOpen(channelType: try DataChannelType(type: type, parameter: parameter), priority: priority,
                               label: labelText, protocol: protocolText)
    }

    /// - Precondition: label and protocol are at most 65,535 UTF-8 bytes each (longer ones are cut there).
    public func serialize() -> [UInt8] {
        let label = Array(self.label.utf8.prefix(Int(UInt16.max)))
        let proto = Array(self.protocol.utf8.prefix(Int(UInt16.max)))
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerLength + label.count + proto.count)
        let (type, parameter) = channelType.wire
        out.append(Self.messageType)
        out.append(type)
        out.appendU16(priority)
        out.appendU32(parameter)
        out.appendU16(UInt16(label.count))
        out.appendU16(UInt16(proto.count))
        out += label
        out += proto
        return out
    }
}

/// DATA_CHANNEL_ACK (RFC 8832 §5.2): one byte.
public enum DataChannelAck {
    static let messageType: UInt8 = 0x02
    public static let bytes: [UInt8] = [messageType]

    public static func isAck(_ bytes: [UInt8]) -> Bool { bytes == Self.bytes }
}

/// A DCEP message as received on PPID 50.
public enum DCEPMessage: Sendable, Equatable {
    case open(DataChannelOpen)
    case ack

    public static func parse(_ bytes: [UInt8]) throws -> DCEPMessage {
        guard let first = bytes.first else { throw WireError.truncated("DCEP message type") }
        switch first {
        case DataChannelOpen.messageType: return .open(try DataChannelOpen.parse(bytes))
        case DataChannelAck.messageType:
            guard bytes.count == 1 else { throw WireError.badLength("DATA_CHANNEL_ACK is one byte") }
            return .ack
        default: throw WireError.badValue("DCEP message type \(first)")
        }
    }

    public func serialize() -> [UInt8] {
        switch self {
        case .open(let open): return open.serialize()
        case .ack: return DataChannelAck.bytes
        }
    }
}
