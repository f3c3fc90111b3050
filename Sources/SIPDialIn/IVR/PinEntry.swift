// The PIN dialogue as a pure state machine: digits in (from RFC 4733 or SIP INFO), decisions out. The call layer
// plays the prompts and hangs up; this type only decides, so every path is unit-tested without audio or SIP.

import Foundation

/// What a PIN opens.
public enum PinLookup: Sendable, Equatable {
    /// The room (its channeling name) to join now.
    case room(String)
    /// A scheduled conference's room to join now, under its owner rules.
    case conference(room: String, rules: OwnerRules)
    /// A scheduled conference whose time window has not started.
    case notYetOpen
    /// A conference whose time window is over.
    case ended
    case unknown
}

/// A conference's owner rules as they apply to one caller (docs/conferences.md, "Owner rules").
public struct OwnerRules: Sendable, Equatable {
    public var conferenceID: String
    /// Callers wait (a hold prompt, not in the room) until an owner is in the room.
    public var waitForOwner: Bool
    /// When the last owner leaves, the other callers hear a goodbye and get a BYE, and the conference is deleted.
    public var endWhenOwnerLeaves: Bool
    /// This caller typed the owner's PIN.
    public var callerIsOwner: Bool

    public init(conferenceID: String, waitForOwner: Bool, endWhenOwnerLeaves: Bool, callerIsOwner: Bool) {
        self.conferenceID = conferenceID
        self.waitForOwner = waitForOwner
        self.endWhenOwnerLeaves = endWhenOwnerLeaves
        self.callerIsOwner = callerIsOwner
    }
}

/// What dial-in tells the conference schedule when an owner rule ends a conference.
public protocol ConferenceCloser: Sendable {
    func ownerLeft(conferenceID: String) async
}

/// Where PINs are looked up: the conference schedule, static PINs from server.conf, or both.
public protocol PinDirectory: Sendable {
    func lookup(pin: String, at date: Date) async -> PinLookup
}

/// Static PINs from `[sip] pins = 1234:standup, 99887766:board` (always open).
public struct StaticPins: PinDirectory {
    public let rooms: [String: String]
    public init(_ rooms: [String: String]) { self.rooms = rooms }
    public func lookup(pin: String, at date: Date) async -> PinLookup { rooms[pin].map { .room($0) } ?? .unknown }
}

/// Asks each directory in turn; the first answer other than `unknown` wins.
public struct ChainedPins: PinDirectory {
    public let directories: [PinDirectory]
    public init(_ directories: [PinDirectory]) { self.directories = directories }
    public func lookup(pin: String, at date: Date) async -> PinLookup {
        for directory in directories {
            let answer = await directory.lookup(pin: pin, at: date)
            if answer != .unknown { return answer }
        }
        return .unknown
    }
}

struct PinEntry {
    enum Action: Equatable {
        /// Keep collecting.
        case none
        /// The caller finished a PIN: look it up.
        case lookup(String)
        /// Stop the prompt that is playing (the caller started typing).
        case stopPrompt
    }

    enum Outcome: Equatable {
        case join(String)
        case retry(Prompt)
        case hangUp(Prompt)
    }

    static let maximumAttempts = 3
    static let maximumDigits = 16

    private(set) var digits = ""
    private(set) var attempts = 0
    private(set) var lastDigitAt: Date?

    /// A key press. `#` ends the PIN; `*` starts over.
    mutating func press(_ key: Character, at now: Date) -> Action {
        lastDigitAt = now
        switch key {
        case "#":
            guard !digits.isEmpty else { return .none }
            let pin = digits
            digits = ""
            return .lookup(pin)
        case "*":
            digits = ""
            return .stopPrompt
        case "0" ... "9":
            let first = digits.isEmpty
            if digits.count < Self.maximumDigits { digits.append(key) }
            return first ? .stopPrompt : .none
        default:
            return .none // A–D have no meaning here
        }
    }

    /// Callers who forget `#`: after `interDigit` without a key, what was typed counts as the PIN.
    mutating func timeout(now: Date, interDigit: TimeInterval) -> Action {
        guard !digits.isEmpty, let last = lastDigitAt, now.timeIntervalSince(last) >= interDigit else { return .none }
        let pin = digits
        digits = ""
        return .lookup(pin)
    }

    /// What the lookup means for the call; the third unknown PIN ends it.
    mutating func resolve(_ lookup: PinLookup) -> Outcome {
        switch lookup {
        case .room(let room), .conference(let room, _): return .join(room)
        case .notYetOpen: return .hangUp(.notYetOpen)
        case .ended: return .hangUp(.ended)
        case .unknown:
            attempts += 1
            return attempts >= Self.maximumAttempts ? .hangUp(.goodbyeInvalid) : .retry(.invalid)
        }
    }
}
