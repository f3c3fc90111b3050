// What the dial-in side needs from the rest of the server: a seat in a room (the phone shows as a participant,
// and its tracks are announced to the others). Implemented in RoomsServer over the channeling hub, so that this
// module knows nothing of channeling.

public struct PhoneTrack: Sendable, Equatable {
    public var kind: String
    public var trackID: String
    public var mid: String

    public init(kind: String, trackID: String, mid: String) {
        self.kind = kind
        self.trackID = trackID
        self.mid = mid
    }
}

public protocol PhoneSeat: AnyObject, Sendable {
    /// The SFU's key of the room the seat is in (the channeling room id).
    var mediaRoom: String { get }
    /// Tells the room which tracks the phone's in-process transport carries.
    func publish(transportID: String, tracks: [PhoneTrack]) async
    func leave() async
}

public protocol PhoneRooms: Sendable {
    /// Puts a phone into the room called `room` (its name in the URL) under `displayName`, with `avatarPNG` as
    /// its buddy picture. `onRemoved` runs if the room side ends the seat (server shutdown, the session closed).
    func enter(room: String, displayName: String, avatarPNG: [UInt8]?, onRemoved: @escaping @Sendable () -> Void) async throws -> PhoneSeat
}
