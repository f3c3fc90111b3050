import Foundation

/// A JSON value as a client sent it, kept loose so that validation can name the field that has the wrong type
/// (a `Decodable` struct would fail on the first mismatch with a decoder-path message).
public enum JSONInput: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONInput])
    case object([String: JSONInput])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONInput].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONInput].self)) }
    }

    /// Parses a request body; nil when it is not JSON. (Foundation's decoder tolerates a trailing comma, which the
    /// MX documentation's own join example has.)
    public static func parse(_ bytes: [UInt8]) -> JSONInput? {
        try? JSONDecoder().decode(JSONInput.self, from: Data(bytes))
    }
}

/// A validation failure: which field, and why (becomes a 400 naming the field).
public struct ConferenceValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

/// The client-settable part of a conference, validated. The server adds the Id and resolves the owner.
public struct ConferenceDraft: Sendable, Equatable {
    /// As sent ("" when absent): ignored on create, must match the path on update.
    public var id: String
    /// nil when absent or 0 (= the caller).
    public var ownerId: Int64?
    public var name: String
    public var accessId: Int64
    public var type: ConferenceType
    public var startDate: Int64
    public var duration: Int
    public var waitForOwner: Bool
    public var delOnOwnerLeave: Bool
    public var ws: String
    public var wsType: String

    static let maxNameLength = 200
    static let maxTextLength = 256
    /// Year 3000: far enough for any schedule, and below `Date.distantFuture`.
    static let maxStartDate: Int64 = 32_503_680_000

    /// Validates a decoded body. Unknown keys (such as `meeting` or `participants` from a listed conference that is
    /// sent back) are ignored.
    public static func validate(_ body: JSONInput) throws(ConferenceValidationError) -> ConferenceDraft {
        guard case .object(let fields) = body else { throw .init(field: "body", message: "must be a JSON object") }
        let type = try conferenceType(fields["type"])
        let startDate = try integer(fields["startDate"], "startDate", 0...maxStartDate, "unix seconds") ?? 0
        if type != .permanent && startDate == 0 {
            throw .init(field: "startDate", message: "required for a \(type.rawValue) conference (unix seconds)")
        }
        let duration = try integer(fields["duration"], "duration", 0...Int64(Int32.max), "minutes") ?? 0
        if type != .permanent && !(1...type.maxDurationMinutes).contains(Int(duration)) {
            throw .init(field: "duration", message: "must be 1-\(type.maxDurationMinutes) minutes for a \(type.rawValue) conference")
        }
        guard let accessId = try accessId(fields["accessId"]) else {
            throw .init(field: "accessId", message: "required: the PIN phones dial, an integer of 4-12 digits")
        }
        return ConferenceDraft(
            id: try text(fields["Id"], "Id", max: 64) ?? "",
            ownerId: try integer(fields["ownerId"], "ownerId", 0...Int64.max, "a jid").flatMap { $0 == 0 ? nil : $0 },
            name: try name(fields["name"]),
            accessId: accessId, type: type, startDate: startDate, duration: Int(duration),
            waitForOwner: try flag(fields["waitForOwner"], "waitForOwner"),
            delOnOwnerLeave: try flag(fields["delOnOwnerLeave"], "delOnOwnerLeave"),
            ws: try text(fields["ws"], "ws", max: maxTextLength) ?? "",
            wsType: try text(fields["wsType"], "wsType", max: maxTextLength) ?? "")
    }

    public func conference(id: String, ownerId: Int64) -> Conference {
        Conference(id: id, ownerId: ownerId, name: name, accessId: accessId, type: type, startDate: startDate,
                   duration: duration, waitForOwner: waitForOwner, delOnOwnerLeave: delOnOwnerLeave, ws: ws, wsType: wsType)
    }

    /// An access id from JSON: an integer, or a string of digits (what a keypad produces).
    public static func accessId(_ value: JSONInput?) throws(ConferenceValidationError) -> Int64? {
        let message = "must be a positive integer of 4-12 digits"
        switch value {
        case nil, .null?: return nil
        case .integer(let i)?:
            guard Conference.accessIdRange.contains(i) else { throw .init(field: "accessId", message: message) }
            return i
        case .string(let s)?:
            guard let i = Conference.accessId(fromDigits: s) else { throw .init(field: "accessId", message: message) }
            return i
        default: throw .init(field: "accessId", message: message)
        }
    }

    private static func conferenceType(_ value: JSONInput?) throws(ConferenceValidationError) -> ConferenceType {
        let names = ConferenceType.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let s)? = value else { throw .init(field: "type", message: "required: one of \(names)") }
        guard let t = ConferenceType(name: s) else { throw .init(field: "type", message: "'\(s)' is not one of \(names)") }
        return t
    }

    private static func name(_ value: JSONInput?) throws(ConferenceValidationError) -> String {
        guard case .string(let raw)? = value else { throw .init(field: "name", message: "required: a string") }
        let s = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !s.isEmpty else { throw .init(field: "name", message: "must not be empty") }
        guard s.count <= maxNameLength else { throw .init(field: "name", message: "longer than \(maxNameLength) characters") }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .init(field: "name", message: "must not contain control characters")
        }
        return s
    }

    private static func integer(_ value: JSONInput?, _ field: String, _ range: ClosedRange<Int64>, _ unit: String)
        throws(ConferenceValidationError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .integer(let i)? where range.contains(i): return i
        case .string(let s)? where field == "ownerId":
            // jids are strings in GET /auth, numbers in conferences: accept both.
            guard let i = Int64(s), range.contains(i) else { throw .init(field: field, message: "must be an integer (\(unit))") }
            return i
        default: throw .init(field: field, message: "must be an integer in \(range.lowerBound)...\(range.upperBound) (\(unit))")
        }
    }

    private static func flag(_ value: JSONInput?, _ field: String) throws(ConferenceValidationError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        default: throw .init(field: field, message: "must be true or false")
        }
    }

    private static func text(_ value: JSONInput?, _ field: String, max: Int) throws(ConferenceValidationError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let s)? where s.count <= max: return s
        case .string?: throw .init(field: field, message: "longer than \(max) characters")
        default: throw .init(field: field, message: "must be a string")
        }
    }
}
