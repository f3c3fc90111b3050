import Foundation
import Hummingbird
import Logging
import Metrics
import SIPDialIn

/// The MX Proxy-style API under `<basePath>api/mx/` (docs/conferences.md): the OAuth2 password grant, user info and
/// conference scheduling. Mounted below `api/` because every top-level path is a room name.
struct MXAPI: Sendable {
    let config: ServerConfig
    let accounts: MXAccounts
    let tokens: MXTokenAuthority
    let conferences: ConferenceStore
    let presence: any RoomPresence
    let logger: Logger
    let metrics: MXMetrics

    /// Conference documents are small; anything larger is refused before it is read.
    var maxBodyBytes: Int { min(config.maxBodyBytes, 64 << 10) }

    /// The caller of an authenticated request.
    struct Caller: Sendable {
        var user: String
        var jid: Int64
        var token: MXTokenAuthority.Verified
    }

    struct BodyTooLarge: Error {}

    /// `path`: what follows `api/mx/`.
    func handle(_ request: Request, path: String) async -> Response {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let method = request.method
        do {
            switch segments {
            case ["auth"] where method == .post: return try await issueToken(request)
            case ["auth"] where method == .get: return try await authenticated(request) { whoAmI($0) }
            case ["auth"]: return notAllowed("GET, POST")
            case ["auth", "logout"] where method == .delete: return try await authenticated(request) { try await logout($0) }
            case ["auth", "logout"]: return notAllowed("DELETE")
            case ["conferences"] where method == .get: return try await authenticated(request) { try await list($0, request) }
            case ["conferences"] where method == .post: return try await authenticated(request) { try await create($0, request) }
            case ["conferences"]: return notAllowed("GET, POST")
            case ["conferences", "info"] where method == .get: return try await authenticated(request) { _ in info() }
            case ["conferences", "info"]: return notAllowed("GET")
            case let s where s.count == 2 && s[0] == "conferences" && !s[1].isEmpty:
                let id = s[1]
                switch method {
                case .get: return try await authenticated(request) { try await show($0, id: id, request) }
                case .put: return try await authenticated(request) { try await update($0, id: id, request) }
                case .delete: return try await authenticated(request) { try delete($0, id: id) }
                case .post: return try await authenticated(request) { try await join($0, id: id, request) }
                default: return notAllowed("GET, PUT, DELETE, POST")
                }
            default:
                return Reply.error(.notFound, "not_found", "No such MX API resource")
            }
        } catch is BodyTooLarge {
            return Reply.error(.contentTooLarge, "request_too_large", "Request body exceeds \(maxBodyBytes) bytes")
        } catch {
            logger.error("mx api request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            return Reply.error(.internalServerError, "internal_error", "Internal error")
        }
    }

    // MARK: bearer tokens

    /// Runs `body` for a request with a valid bearer token of a configured user; otherwise a 401 (RFC 6750).
    func authenticated(_ request: Request, _ body: (Caller) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = Self.credentials(header, scheme: "Bearer") else {
            metrics.refused("missing_token")
            return Self.unauthorized("missing_token", "A bearer token is required (POST \(config.basePath)api/mx/auth)", bearerError: nil)
        }
        let verified: MXTokenAuthority.Verified
        switch await tokens.check(token) {
        case .success(let v): verified = v
        case .failure(let rejection):
            metrics.refused("invalid_token")
            return Self.unauthorized("invalid_token", rejection.description, bearerError: "invalid_token")
        }
        guard accounts.userExists(verified.subject) else {
            metrics.refused("invalid_token")
            return Self.unauthorized("invalid_token", "the token's user is no longer configured", bearerError: "invalid_token")
        }
        return try await body(Caller(user: verified.subject, jid: MXAccounts.jid(of: verified.subject), token: verified))
    }

    /// The credentials of an `Authorization` header with the given scheme (case-insensitive), else nil.
    static func credentials(_ header: String, scheme: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].caseInsensitiveCompare(scheme) == .orderedSame else { return nil }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        return value.isEmpty ? nil : value
    }

    static func unauthorized(_ code: String, _ message: String, bearerError: String?) -> Response {
        var r = Reply.error(.unauthorized, code, message)
        var challenge = "Bearer realm=\"rooms\""
        if let bearerError { challenge += ", error=\"\(bearerError)\", error_description=\"\(message.replacingOccurrences(of: "\"", with: "'"))\"" }
        r.headers[.wwwAuthenticate] = challenge
        return r
    }

    // MARK: bodies and answers

    func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes { throw BodyTooLarge() }
        do {
            return Array(try await request.body.collect(upTo: maxBodyBytes).readableBytesView)
        } catch {
            throw BodyTooLarge()
        }
    }

    func notAllowed(_ allow: String) -> Response {
        var r = Reply.empty(.methodNotAllowed)
        r.headers[.allow] = allow
        return r
    }

    /// A REST error with extra members after the usual three (e.g. the field that failed validation).
    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [(String, JSONValue)]) -> Response {
        Reply.json(status, .object([("code", .string(code)), ("message", .string(message)), ("success", .bool(false))] + extra))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}

/// Counters of the MX API, created once.
struct MXMetrics: Sendable {
    private let issued = Counter(label: "rooms_mx_tokens_issued_total")
    private let refusals: [String: Counter]
    private let changes: [String: Counter]

    init() {
        refusals = Dictionary(uniqueKeysWithValues: ["missing_token", "invalid_token", "invalid_client", "invalid_grant",
                                                     "invalid_request", "unsupported_grant_type"].map {
            ($0, Counter(label: "rooms_mx_auth_refused_total", dimensions: [("reason", $0)]))
        })
        changes = Dictionary(uniqueKeysWithValues: ["create", "update", "delete"].map {
            ($0, Counter(label: "rooms_conferences_changes_total", dimensions: [("op", $0)]))
        })
    }

    func tokenIssued() { issued.increment() }
    func refused(_ reason: String) { refusals[reason]?.increment() }
    func changed(_ op: String) { changes[op]?.increment() }
}
