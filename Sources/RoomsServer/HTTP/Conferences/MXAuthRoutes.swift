import Foundation
import Hummingbird

/// `POST /auth` (RFC 6749 §4.3, the resource owner password grant with HTTP Basic client authentication),
/// `GET /auth` and `DELETE /auth/logout`.
extension MXAPI {
    func issueToken(_ request: Request) async throws -> Response {
        guard !accounts.config.apps.isEmpty else {
            return oauthError(.serviceUnavailable, "no_apps_configured",
                              "No OAuth2 client apps are configured on this server: set [conferences] apps = client:secret")
        }
        guard let header = request.headers[.authorization], let basic = Self.credentials(header, scheme: "Basic"),
              let decoded = Base64Lenient.decode(basic), let colon = decoded.firstIndex(of: ":") else {
            return invalidClient("HTTP Basic client authentication (client_id:secret) is required")
        }
        let client = String(decoded[..<colon])
        guard accounts.clientIsValid(id: client, secret: String(decoded[decoded.index(after: colon)...])) else {
            return invalidClient("unknown client or wrong client secret")
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            return oauthError(.badRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
        }
        guard let form = FormDecoding.parse(String(decoding: try await readBody(request), as: UTF8.self)) else {
            return oauthError(.badRequest, "invalid_request", "the form body does not parse")
        }
        guard let grant = form["grant_type"], !grant.isEmpty else {
            return oauthError(.badRequest, "invalid_request", "grant_type is missing")
        }
        guard grant == "password" else {
            return oauthError(.badRequest, "unsupported_grant_type", "only grant_type=password is supported")
        }
        guard let user = form["username"], !user.isEmpty, let password = form["password"] else {
            return oauthError(.badRequest, "invalid_request", "username and password are required")
        }
        guard accounts.userIsValid(name: user, password: password) else {
            logger.notice("mx login refused", metadata: ["user": "\(user)", "client": "\(client)"])
            return oauthError(.badRequest, "invalid_grant", "unknown user or wrong password")
        }
        let (token, expiresIn) = try await tokens.issue(subject: user)
        metrics.tokenIssued()
        logger.info("mx token issued", metadata: ["user": "\(user)", "client": "\(client)"])
        var h = HTTPFields()
        h[.cacheControl] = "no-store"
        h[.init("Pragma")!] = "no-cache"
        return Reply.json(.ok, .object([
            ("token_type", .string("Bearer")), ("access_token", .string(token)), ("expires_in", .int(Int64(expiresIn))),
        ]), headers: h)
    }

    func whoAmI(_ caller: Caller) -> Response {
        let me = accounts.identity(of: caller.user)
        return Reply.json(.ok, .object([
            ("mx", .string(me.mx)), ("ext", .string(me.ext)), ("jid", .string(String(me.jid))), ("softPhonePwd", .string(me.softPhonePwd)),
        ]))
    }

    func logout(_ caller: Caller) async throws -> Response {
        try await tokens.revoke(caller.token)
        logger.info("mx token revoked", metadata: ["user": "\(caller.user)"])
        return Self.noContent()
    }

    /// OAuth2's `error`/`error_description` together with Rooms' `code`/`message`/`success`, so that both OAuth2
    /// clients and Rooms' REST conventions read it.
    private func oauthError(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        if status == .badRequest || status == .unauthorized { metrics.refused(code) }
        var r = Self.error(status, code, message, extra: [("error", .string(code)), ("error_description", .string(message))])
        r.headers[.cacheControl] = "no-store"
        return r
    }

    private func invalidClient(_ message: String) -> Response {
        var r = oauthError(.unauthorized, "invalid_client", message)
        r.headers[.wwwAuthenticate] = "Basic realm=\"rooms\""
        return r
    }
}

/// Base64 as HTTP Basic credentials are sent (padding optional); the text as UTF-8.
enum Base64Lenient {
    static func decode(_ s: String) -> String? {
        var t = s
        while t.count % 4 != 0 { t += "=" }
        guard let data = Data(base64Encoded: t) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}
