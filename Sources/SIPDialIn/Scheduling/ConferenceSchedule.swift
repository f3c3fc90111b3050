import Foundation

/// The time-window rules of conferences (documented on `ConferenceType`), free of storage so they can be tested alone.
public struct ConferenceSchedule: Sendable, Equatable {
    /// Callers may join this long before a window starts (people dial in a little early).
    public var earlyJoin: TimeInterval

    public static let defaultEarlyJoin: TimeInterval = 5 * 60

    public init(earlyJoin: TimeInterval = Self.defaultEarlyJoin) {
        self.earlyJoin = max(0, earlyJoin)
    }

    /// The scheduled window [start, end) that contains `date` (early join included) or is the next one; nil when
    /// the conference has no window left. `end` is `.distantFuture` for `Permanent`.
    public func occurrence(of conference: Conference, at date: Date) -> DateInterval? {
        let start = TimeInterval(conference.startDate)
        let now = date.timeIntervalSince1970
        let length = TimeInterval(max(conference.duration, 0)) * 60
        switch conference.type {
        case .permanent:
            return DateInterval(start: Date(timeIntervalSince1970: start), end: .distantFuture)
        case .once:
            let end = start + length
            return now < end ? DateInterval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)) : nil
        case .daily, .weekly:
            let period = conference.type.period!
            // The occurrence whose early-join moment is the latest one not after `now` (none before the first).
            let k = max(0, ((now + earlyJoin - start) / period).rounded(.down))
            var begin = start + k * period
            if now >= begin + length { begin += period }
            return DateInterval(start: Date(timeIntervalSince1970: begin), end: Date(timeIntervalSince1970: begin + length))
        }
    }

    public func lookup(_ conference: Conference, at date: Date) -> ConferenceLookup {
        guard let window = occurrence(of: conference, at: date) else { return .ended }
        let opensAt = window.start.addingTimeInterval(-earlyJoin)
        if date >= opensAt && date < window.end { return .open(room: conference.roomName, conference: conference) }
        return .notYetOpen(opensAt: opensAt)
    }
}
