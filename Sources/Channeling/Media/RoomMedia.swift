import Foundation

/// What the channeling layer needs from the SFU (implemented in RoomsServer over `SFUService`), so that Channeling
/// stays free of media code. Offers and answers are SDP strings; `tracks` lists the negotiated media sections.
public protocol RoomMedia: Sendable {
    func publish(room: String, offer: String) async throws -> MediaNegotiation
    func subscribe(room: String, offer: String, excludingTransports: Set<String>) async throws -> MediaNegotiation
    func close(room: String, transportID: String) async
    func publish(room: String, offer: String, participant: String?) async throws -> MediaNegotiation
    func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?) async throws
        -> MediaNegotiation
    /// Like `publish`/`subscribe`, but an offer from the connection `existing` (same ICE and DTLS) renegotiates it:
    /// the result then has the same transport id and `renegotiated` set.
    func publish(room: String, offer: String, participant: String?, renegotiating existing: String?) async throws
        -> MediaNegotiation
    func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?,
                   renegotiating existing: String?) async throws -> MediaNegotiation
    /// A subscriber's simulcast wish for one track on its subscriber connection (SfuLayer): tile size in device
    /// pixels and/or a layer by rid or q/h/f.
    func setLayer(room: String, transportID: String, trackID: String, maxWidth: Int?, maxHeight: Int?, layer: String?) async
}

extension RoomMedia {
    /// `participant`: the channeling session the connection belongs to (its data channel messages are relayed to
    /// the room's other participants under this id); nil for WHIP/WHEP clients. Media without data channels ignores it.
    public func publish(room: String, offer: String, participant: String?) async throws -> MediaNegotiation {
        try await publish(room: room, offer: offer)
    }

    /// Media that cannot renegotiate makes a new connection every time.
    public func publish(room: String, offer: String, participant: String?, renegotiating existing: String?) async throws
        -> MediaNegotiation {
        try await publish(room: room, offer: offer, participant: participant)
    }

    public func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?,
                          renegotiating existing: String?) async throws -> MediaNegotiation {
        try await subscribe(room: room, offer: offer, excludingTransports: excludingTransports, participant: participant)
    }

    public func subscribe(room: String, offer: String, excludingTransports: Set<String>, participant: String?) async throws
        -> MediaNegotiation {
        try await subscribe(room: room, offer: offer, excludingTransports: excludingTransports)
    }

    /// Media without simulcast has nothing to choose.
    public func setLayer(room: String, transportID: String, trackID: String, maxWidth: Int?, maxHeight: Int?,
                         layer: String?) async {}
}

public struct MediaNegotiation: Sendable {
    public struct Section: Sendable {
        public var mid: String
        public var kind: String
        /// The track id of the publisher's `a=msid` (the same on the publisher's and every subscriber's side).
        public var trackID: String
        public init(mid: String, kind: String, trackID: String) {
            self.mid = mid
            self.kind = kind
            self.trackID = trackID
        }
    }

    /// A track the subscriber does not get because it cannot decode the track's codec.
    public struct Unsupported: Sendable {
        public var trackID: String
        public var kind: String
        public var codec: String
        public init(trackID: String, kind: String, codec: String) {
            self.trackID = trackID
            self.kind = kind
            self.codec = codec
        }
    }

    public var transportID: String
    public var answer: String
    public var sections: [Section]
    public var unsupported: [Unsupported]
    /// An existing connection was renegotiated (same transport id as before).
    public var renegotiated: Bool

    public init(transportID: String, answer: String, sections: [Section], unsupported: [Unsupported] = [],
                renegotiated: Bool = false) {
        self.transportID = transportID
        self.answer = answer
        self.sections = sections
        self.unsupported = unsupported
        self.renegotiated = renegotiated
    }
}

/// A published track as clients see it (docs/sfu-signaling.md).
struct TrackInfo: Codable, Equatable {
    var Track: String
    var Mid: String?
    var Session: String
    var Kind: String
    var Source: String
    var Muted: Bool
}

/// One session's publication in a room: its publisher connection and its tracks by publisher mid.
struct Publication {
    var transportID: String
    var tracks: [String: TrackInfo]
}
