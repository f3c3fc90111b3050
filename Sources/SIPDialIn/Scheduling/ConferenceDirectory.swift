import Foundation

/// What a PIN leads to at a given moment (the SIP side turns it into "joining", "not yet", "over" or "unknown").
public enum ConferenceLookup: Sendable, Equatable {
    /// Joinable now: put the caller into Rooms room `room`.
    case open(room: String, conference: Conference)
    /// Scheduled, not joinable yet; `opensAt` is the first moment `lookup` answers `.open`
    /// (the start minus the early-join allowance).
    case notYetOpen(opensAt: Date)
    /// A `Once` conference whose window has passed.
    case ended
    /// No conference has this access id (or the PIN is not a number).
    case notFound
}

/// The lookup the SIP dial-in calls with the digits a phone typed.
public protocol ConferenceDirectory: Sendable {
    func lookup(accessId: String, at: Date) throws -> ConferenceLookup
}

extension Conference {
    /// The access id as typed on a phone keypad: digits only, 4-12 of them, no leading zero.
    public static func accessId(fromDigits digits: String) -> Int64? {
        guard (4...12).contains(digits.utf8.count), digits.utf8.allSatisfy({ (48...57).contains($0) }),
              digits.utf8.first != 48, let value = Int64(digits) else { return nil }
        return value
    }

    public static let accessIdRange: ClosedRange<Int64> = 1_000...999_999_999_999
}
