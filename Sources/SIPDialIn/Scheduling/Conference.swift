import Foundation

/// When a conference may be joined. The JSON names are the MX Proxy API's (`"type": "Once"`).
public enum ConferenceType: String, Sendable, CaseIterable, Codable {
    /// One window: [startDate, startDate + duration).
    case once = "Once"
    /// The window of `Once` repeated every 24 h (86 400 s) from startDate on, with no end. The repetition is in
    /// absolute time, so a daily 09:00 local meeting moves by an hour across a daylight-saving change.
    case daily = "Daily"
    /// The window repeated every 7 × 24 h from startDate on, with no end.
    case weekly = "Weekly"
    /// Open from startDate on (0 = always), never ends; duration is ignored.
    case permanent = "Permanent"

    /// Seconds between two occurrences; nil for the types that do not repeat.
    public var period: TimeInterval? {
        switch self {
        case .daily: return 86_400
        case .weekly: return 7 * 86_400
        case .once, .permanent: return nil
        }
    }

    /// The longest window in minutes: a repeating window may not overlap the next occurrence.
    public var maxDurationMinutes: Int {
        switch self {
        case .daily: return 24 * 60
        case .once, .weekly: return 7 * 24 * 60
        case .permanent: return Int.max
        }
    }

    /// Case-insensitive, because clients differ in how they spell the MX names.
    public init?(name: String) {
        guard let t = Self.allCases.first(where: { $0.rawValue.caseInsensitiveCompare(name) == .orderedSame }) else { return nil }
        self = t
    }
}

/// A scheduled conference: the MX Proxy API's conference object. Phones dial in with `accessId` as PIN; web users
/// join the Rooms room `roomName`.
public struct Conference: Sendable, Equatable, Hashable {
    /// Server-generated (lower-case letters and digits), stable for the conference's life.
    public var id: String
    /// The owner's jid (a number, as MX jids are).
    public var ownerId: Int64
    public var name: String
    /// The PIN phones type: a positive integer of 4-12 digits, unique among conferences.
    public var accessId: Int64
    public var type: ConferenceType
    /// Unix seconds.
    public var startDate: Int64
    /// Minutes.
    public var duration: Int
    /// Owner rules (docs/conferences.md): callers who are not the owner wait (hold prompt) until the owner is in
    /// the room; when the owner leaves, the conference ends for the phones and is deleted.
    public var waitForOwner: Bool
    public var delOnOwnerLeave: Bool
    /// A Rooms addition: the PIN that dials the owner in (as the owner) — same room, owner rules apply to others.
    /// Unique among all access ids and owner access ids; generated when an owner rule is on and none was given.
    public var ownerAccessId: Int64?
    public var ws: String
    public var wsType: String

    public init(id: String, ownerId: Int64, name: String, accessId: Int64, type: ConferenceType, startDate: Int64,
                duration: Int, waitForOwner: Bool = false, delOnOwnerLeave: Bool = false, ownerAccessId: Int64? = nil,
                ws: String = "", wsType: String = "") {
        self.id = id
        self.ownerId = ownerId
        self.name = name
        self.accessId = accessId
        self.type = type
        self.startDate = startDate
        self.duration = duration
        self.waitForOwner = waitForOwner
        self.delOnOwnerLeave = delOnOwnerLeave
        self.ownerAccessId = ownerAccessId
        self.ws = ws
        self.wsType = wsType
    }

    /// The Rooms room of this conference. Derived from the Id (not the name) so that renaming a conference
    /// never moves its participants to another room.
    public var roomName: String { Self.roomName(id: id) }

    /// Some owner rule is on: the dial-in side has to know who the owner is.
    public var hasOwnerRules: Bool { waitForOwner || delOnOwnerLeave }

    /// A random access id of `digits` digits (no leading zero) for a generated owner PIN.
    public static func randomAccessId(digits: Int = 8) -> Int64 {
        var rng = SystemRandomNumberGenerator()
        let low = Int64(pow(10, Double(digits - 1))), high = Int64(pow(10, Double(digits))) - 1
        return Int64.random(in: low...high, using: &rng)
    }

    public static func roomName(id: String) -> String { "conf-" + id }

    /// A fresh Id: 12 characters of [a-z0-9] (62 bits), safe in a URL path and a room name.
    public static func newId() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }
}
