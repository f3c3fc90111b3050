import Channeling
import Foundation
import Hummingbird
import Logging
import NIOCore
import Users

/// The REST resources under `/api/v1/` (rest-api §7).
struct RestAPI: Sendable {
    let config: ServerConfig
    let page: AppPage
    let hub: Hub
    let users: UserModes
    let store: any UserStore
    let tokens: AccessTokens?
    let runtime: RuntimeStats
    let sfu: SFUMedia?
    var dialIn: DialInLifecycle? = nil

    struct BodyTooLarge: Error {}

    func readBody(_ request: Request) async throws -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: config.maxBodyBytes)
            return Array(buffer.readableBytesView)
        } catch {
            throw BodyTooLarge()
        }
    }

    /// The query exactly as sent (Hummingbird's `uri.query` is already percent-decoded).
    func rawQuery(_ request: Request) -> String? {
        guard let target = request.head.path, let q = target.firstIndex(of: "?") else { return nil }
        return String(target[target.index(after: q)...])
    }

    /// Query plus, for form-encoded POST/PUT/PATCH, the body (the original parses both first; failure → 400).
    func form(_ request: Request, body: [UInt8]) -> [String: String]? {
        guard var fields = FormDecoding.parse(rawQuery(request) ?? "") else { return nil }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        if [.post, .put, .patch].contains(request.method), type.hasPrefix("application/x-www-form-urlencoded") {
            guard let bodyFields = FormDecoding.parse(String(decoding: body, as: UTF8.self)) else { return nil }
            for (k, v) in bodyFields where fields[k] == nil { fields[k] = v }
        }
        return fields
    }

    func handle(_ request: Request, resource: String) async -> Response {
        do {
            // The original parses the query (and a form body) of every API request first; failure → 400, empty.
            if let length = request.headers[.contentLength].flatMap(Int.init), length > config.maxBodyBytes { throw BodyTooLarge() }
            let query = rawQuery(request)
            if request.method != .get || query != nil {
                let type = request.headers[.contentType]?.lowercased() ?? ""
                let body = type.hasPrefix("application/x-www-form-urlencoded") ? try await readBody(request) : []
                if form(request, body: body) == nil { return Reply.empty(.badRequest) }
                if !body.isEmpty { return await handle(request, resource: resource, formBody: body) }
            }
            return await handle(request, resource: resource, formBody: nil)
        } catch is BodyTooLarge {
            return Reply.error(.contentTooLarge, "request_too_large", "Request body exceeds \(config.maxBodyBytes) bytes")
        } catch {
            return Reply.error(.internalServerError, "unknown", "Internal error")
        }
    }

    /// `formBody`: the already-read form body (a request body can be read only once).
    private func handle(_ request: Request, resource: String, formBody: [UInt8]?) async -> Response {
        let segments = resource.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let readBody: (Request) async throws -> [UInt8] = { request in
            if let formBody { return formBody }
            return try await self.readBody(request)
        }
        do {
            switch segments.first ?? "" {
            case "config" where segments.count == 1:
                guard request.method == .get else { return Reply.empty(.methodNotAllowed) }
                return Reply.bytes(.ok, page.configBody, type: Reply.jsonUTF8)
            case "rooms" where segments.count == 1:
                guard request.method == .post else { return Reply.empty(.methodNotAllowed) }
                let name = SessionCodec.randomAlphanumeric(11)
                return Reply.json(.ok, .object([("name", .string(name)), ("url", .string(config.basePath + name))]), type: "application/json")
            case "tokens" where segments.count == 1:
                guard request.method == .post else { return Reply.empty(.methodNotAllowed) }
                return try await postToken(request, readBody)
            case "sessions" where segments.count == 3 && !segments[1].isEmpty && segments[2].isEmpty && config.usersEnabled:
                guard request.method == .patch else { return Reply.empty(.methodNotAllowed) }
                return try await patchSession(request, id: segments[1].removingPercentEncoding ?? segments[1], readBody)
            case "users" where segments.count == 1 && config.usersEnabled && config.usersAllowRegistration:
                guard request.method == .post else { return Reply.empty(.methodNotAllowed) }
                return try await postUser(request, readBody)
            case "stats" where segments.count == 1 && config.stats:
                guard request.method == .get else { return Reply.empty(.methodNotAllowed) }
                return await stats(request)
            default:
                return Reply.error(.notFound, "not_found", "No such API resource")
            }
        } catch is BodyTooLarge {
            return Reply.error(.contentTooLarge, "request_too_large", "Request body exceeds \(config.maxBodyBytes) bytes")
        } catch {
            return Reply.error(.internalServerError, "unknown", "Internal error")
        }
    }

    // MARK: tokens (§7.2)

    private func postToken(_ request: Request, _ readBody: (Request) async throws -> [UInt8]) async throws -> Response {
        let body = try await readBody(request)
        guard let fields = form(request, body: body) else { return Reply.empty(.badRequest) }
        guard let tokens else { return Reply.error(.notFound, "tokens_disabled", "Access tokens are not enabled") }
        let a = fields["a"] ?? ""
        if a.count > 100 { return Reply.error(.contentTooLarge, "auth_too_large", "Auth too large").withType("application/json") }
        guard !a.isEmpty, tokens.isValid(a) else {
            return Reply.error(.forbidden, "invalid_token", "Invalid token").withType("application/json")
        }
        var h = HTTPFields()
        let secure = AppPage.isSecure(request) ? "; Secure" : ""
        h[.setCookie] = "\(AccessTokens.cookieName)=\(tokens.cookieValue()); Path=\(config.basePath); Max-Age=\(Int(AccessTokens.cookieLifetime)); HttpOnly; SameSite=Strict\(secure)"
        let body2: [UInt8] = Array(JSONValue.object([("token", .string(a.lowercased())), ("success", .bool(true))]).serialized(indent: true).utf8)
        return Reply.compressed(Reply.bytes(.ok, body2, type: "application/json", headers: h), for: request, body: body2)
    }

    // MARK: sessions (§7.4)

    private func patchSession(_ request: Request, id pathId: String, _ readBody: (Request) async throws -> [UInt8]) async throws -> Response {
        let failed = Reply.error(.forbidden, "session_patch_failed", "Failed to patch session")
        let body = try await readBody(request)
        guard form(request, body: body) != nil else { return Reply.empty(.badRequest) }
        struct Patch: Decodable { var id: String?; var sid: String?; var useridcombo: String?; var secret: String? }
        let patch = try? JSONDecoder().decode(Patch.self, from: Data(body))
        // Every check runs (no early exit on the first failure), as the original.
        var ok = patch != nil
        let id = patch?.id ?? "", sid = patch?.sid ?? ""
        ok = ok && pathId == id
        ok = ok && !sid.isEmpty
        ok = hub.codec.validate(id: id, sid: sid) && ok
        let userid = users.loginUserid(request, useridcombo: patch?.useridcombo ?? "", secret: patch?.secret ?? "")
        ok = ok && !(userid ?? "").isEmpty
        guard ok, let userid else { return failed }
        do {
            let nonce = try hub.issueNonce(id: id, sid: sid, userid: userid)
            try? store.touch(id: userid, at: Date())
            return Reply.json(.ok, .object([("nonce", .string(nonce)), ("userid", .string(userid)), ("success", .bool(true))]), type: "application/json")
        } catch {
            return failed
        }
    }

    // MARK: users (§7.5)

    private func postUser(_ request: Request, _ readBody: (Request) async throws -> [UInt8]) async throws -> Response {
        guard users.canRegister else { return Reply.text(.notFound, "No handler found", type: "text/plain") }
        let body = try await readBody(request)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        var id = "", sid = "", pubkey = ""
        if type.hasPrefix("application/json") {
            struct Registration: Decodable { var id: String?; var sid: String? }
            guard let r = try? JSONDecoder().decode(Registration.self, from: Data(body)) else {
                return Reply.error(.badRequest, "users_bad_request", "Failed to parse request")
            }
            id = r.id ?? ""; sid = r.sid ?? ""
        } else if type.hasPrefix("application/x-www-form-urlencoded") {
            guard let f = form(request, body: body) else { return Reply.empty(.badRequest) }
            id = f["id"] ?? ""; sid = f["sid"] ?? ""; pubkey = f["pubkey"] ?? ""
        } else {
            return Reply.error(.badRequest, "users_invalid_request", "Invalid request type")
        }
        guard !id.isEmpty, !sid.isEmpty else { return Reply.error(.badRequest, "users_bad_request", "Incomplete request") }
        guard hub.codec.validate(id: id, sid: sid) else { return Reply.error(.forbidden, "users_invalid_session", "Invalid session") }
        if case .httpheader = users.mode { return Reply.error(.badRequest, "users_create_failed", "Registration is not possible in httpheader mode") }

        let userid = UUID().uuidString.lowercased() + "@" + config.serverRealm
        // Create the credential before the nonce so that a failure (bad SPKAC) leaves nothing behind.
        var certificate: [UInt8]? = nil
        if case .certificate(let ca, _) = users.mode {
            guard let ca, !pubkey.isEmpty,
                  let der = try? ca.issue(spkacBase64: pubkey, userid: userid, organization: config.certificateOrganization,
                                          validForDays: config.certificateValidForDays, now: Date()) else {
                return Reply.error(.badRequest, "users_create_failed", "Failed to create user: invalid or missing pubkey")
            }
            certificate = der
        }
        let nonce: String
        do {
            nonce = try hub.issueNonce(id: id, sid: sid, userid: userid)
        } catch Hub.NonceFailure.alreadyAuthenticated {
            return Reply.error(.badRequest, "users_request_failed", "Error: \"session already authenticated\"")
        } catch {
            return Reply.error(.badRequest, "users_request_failed", "Error: \"no such session\"")
        }
        do {
            try store.register(UserRecord(id: userid, mode: config.usersMode.lowercased(), createdAt: Date(), lastSeenAt: nil))
        } catch {
            return Reply.error(.internalServerError, "users_create_failed", "Failed to store the user")
        }
        switch users.mode {
        case .sharedsecret(let auth):
            let cred = auth.credentials(userid: userid, now: Date())
            return Reply.json(.ok, .object([
                ("nonce", .string(nonce)), ("userid", .string(userid)), ("useridcombo", .string(cred.useridcombo)),
                ("secret", .string(cred.secret)), ("timestamp", .int(cred.expiry)), ("success", .bool(true)),
            ]), type: "application/json")
        case .certificate:
            var h = HTTPFields()
            h[.acceptRanges] = "bytes"
            h[.lastModified] = StaticFiles.httpDate.string(from: Date())
            return Reply.bytes(.ok, certificate ?? [], type: "application/x-x509-user-cert", headers: h)
        default:
            return Reply.text(.notFound, "No handler found", type: "text/plain")
        }
    }

    // MARK: stats (§7.6)

    private func stats(_ request: Request) async -> Response {
        let counters = hub.counters()
        let rt = runtime.snapshot()
        var hubMembers: [(String, JSONValue)] = [
            ("rooms", .int(Int64(counters.rooms))), ("connections", .int(Int64(counters.connections))),
            ("sessions", .int(Int64(counters.sessions))), ("users", .int(Int64(counters.users))),
            ("count", .int(Int64(counters.count))),
            ("broadcastchatmessages", .int(Int64(counters.broadcastChatMessages))),
            ("unicastchatmessages", .int(Int64(counters.unicastChatMessages))),
        ]
        let details = FormDecoding.parse(rawQuery(request) ?? "")?["details"] == "1"
        if details {
            let snap = await hub.snapshot()
            hubMembers.append(("sessionsbyid", .object(snap.sessions.map { s in
                var m: [(String, JSONValue)] = [("Type", .string("")), ("Id", .string(s.id))]
                if !s.userid.isEmpty { m.append(("Userid", .string(s.userid))) }
                if s.rev != 0 { m.append(("Rev", .int(Int64(s.rev)))) }
                m.append(("Prio", .int(100)))
                return (s.id, .object(m))
            })))
            hubMembers.append(("connectionsbyidx", .object(snap.sessions.enumerated().map { (String($0.offset + 1), .string($0.element.id)) })))
            hubMembers.append(("idsinroom", .object(snap.idsInRoom.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.strings($0.value)) })))
            hubMembers.append(("usersbyid", .object(snap.users.sorted { $0.key < $1.key }.map { user, ids in
                (user, .object([("Id", .string(user)), ("Sessions", .int(Int64(ids.count)))]))
            })))
        }
        var members: [(String, JSONValue)] = [
            ("runtime", .object(rt.map { ($0.0, .int($0.1)) })),
            ("hub", .object(hubMembers)),
        ]
        if let sfu { members.append(("sfu", await sfu.statsDocument())) }
        if let dialIn { members.append(("sip", await dialIn.statsDocument())) }
        let doc = JSONValue.object(members)
        var h = HTTPFields()
        h[.accessControlAllowOrigin] = "*"
        let body = Array(doc.serialized(indent: true).utf8)
        return Reply.compressed(Reply.bytes(.ok, body, type: Reply.jsonUTF8, headers: h), for: request, body: body)
    }
}

extension Response {
    func withType(_ type: String) -> Response {
        var r = self
        r.headers[.contentType] = type
        return r
    }
}

/// `application/x-www-form-urlencoded` decoding with Go's strictness: a bad `%` escape fails the whole form.
enum FormDecoding {
    static func parse(_ s: String) -> [String: String]? {
        var out: [String: String] = [:]
        for pair in s.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = decode(kv[0]) else { return nil }
            let v = kv.count > 1 ? decode(kv[1]) : ""
            guard let v else { return nil }
            if out[k] == nil { out[k] = v }
        }
        return out
    }

    private static func decode(_ s: Substring) -> String? {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        if !plus.contains("%") { return plus }
        return plus.removingPercentEncoding
    }
}
