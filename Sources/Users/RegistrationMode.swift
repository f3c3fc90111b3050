import Foundation

/// `[users] mode` (server-conf §users), parsed case-insensitively; surrounding whitespace is ignored.
/// Anything else is `.invalid(original string)`: users stay enabled but without a handler.
public enum RegistrationMode: Sendable, Equatable, Hashable, CustomStringConvertible {
    case sharedsecret
    case httpheader
    case certificate
    case invalid(String)

    public init(_ string: String) {
        switch string.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "sharedsecret": self = .sharedsecret
        case "httpheader": self = .httpheader
        case "certificate": self = .certificate
        default: self = .invalid(string)
        }
    }

    /// The canonical name (`.invalid` gives back the configured string).
    public var name: String {
        switch self {
        case .sharedsecret: return "sharedsecret"
        case .httpheader: return "httpheader"
        case .certificate: return "certificate"
        case .invalid(let s): return s
        }
    }

    public var isValid: Bool {
        if case .invalid = self { return false }
        return true
    }

    /// Whether `POST /api/v1/users` can create users in this mode (rest-api §7.5).
    public var supportsRegistration: Bool { self == .sharedsecret || self == .certificate }

    public var description: String { name }
}
