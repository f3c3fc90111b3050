import Channeling
import Foundation
import Hummingbird
import Metrics

/// All HTTP routing (rest-api §2). A hand-written dispatcher instead of Hummingbird's trie router because the Spreed
/// routes depend on order, method-less fallbacks (any method on a one-segment room), Go's path cleaning and strict
/// slash redirects, which a trie router cannot express.
struct AppResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let config: ServerConfig
    let page: AppPage
    let staticFiles: StaticFiles
    let rest: RestAPI
    let buddyImages: BuddyImageRoutes
    let accessTokens: AccessTokens?
    let metrics: HTTPMetrics
    let whip: WHIPEndpoints
    /// The MX conference API, nil when `[conferences] enabled = false`.
    let mx: MXAPI?

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let (route, response) = await route(request)
        var r = response
        r.headers[.xContentTypeOptions] = "nosniff"
        r.headers[.init("Referrer-Policy")!] = "no-referrer"
        metrics.record(route: route, status: r.status.code, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        return r
    }

    /// Go's `path.Clean` plus gorilla's rule of keeping a trailing slash.
    static func cleanPath(_ p: String) -> String {
        if p.isEmpty { return "/" }
        // Fast path (almost every request): rooted, no empty, "." or ".." segments.
        if isClean(p) { return p }
        let rooted = p.hasPrefix("/") ? p : "/" + p
        var out: [Substring] = []
        for seg in rooted.split(separator: "/", omittingEmptySubsequences: true) {
            if seg == "." { continue }
            if seg == ".." { _ = out.popLast(); continue }
            out.append(seg)
        }
        var cleaned = "/" + out.joined(separator: "/")
        if rooted.hasSuffix("/") && cleaned != "/" { cleaned += "/" }
        return cleaned
    }

    /// Rooted, and no "/" followed by "/" or "." (a plain byte scan: Foundation's `contains` showed up in profiles).
    static func isClean(_ p: String) -> Bool {
        var previous: UInt8 = 0
        var first = true
        for byte in p.utf8 {
            if first { guard byte == UInt8(ascii: "/") else { return false }; first = false }
            if previous == UInt8(ascii: "/") && (byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")) { return false }
            previous = byte
        }
        return !first
    }

    private func route(_ request: Request) async -> (HTTPMetrics.Route, Response) {
        let target = request.head.path ?? "/"
        let (path, query): (String, String?) = {
            if let q = target.firstIndex(of: "?") { return (String(target[..<q]), String(target[target.index(after: q)...])) }
            return (target, nil)
        }()
        let suffix = query.map { "?" + $0 } ?? ""
        let cleaned = Self.cleanPath(path)
        if cleaned != path { return (.other, Reply.redirect(cleaned + suffix, htmlBody: false)) }

        let base = config.basePath
        guard path.hasPrefix(base) else {
            if path + "/" == base { return (.other, Reply.redirect(base + suffix, htmlBody: true)) }
            return (.other, Reply.text(.notFound, "404 page not found"))
        }
        let rest = String(path.dropFirst(base.count))
        let method = request.method

        if rest.isEmpty { return (.page, page.render(request, room: "")) }
        if rest == "healthz" { return (.other, Reply.json(.ok, .object([("status", .string("ok"))]), type: "application/json")) }
        if rest == "metrics" { return (.other, await metrics.exposition(hub: self.rest.hub, sfu: self.rest.sfu)) }

        // Routes whose last segment may legitimately end with "/".
        if rest.hasPrefix("static/img/buddy/") {
            let parts = rest.dropFirst("static/img/buddy/".count).split(separator: "/", omittingEmptySubsequences: false)
            if parts.count >= 2 { return (.static, buddyImages.serve(request, flags: String(parts[0]), imageId: String(parts[1]))) }
        }
        if rest.hasPrefix("static/img/avatar/") {
            let parts = rest.dropFirst("static/img/avatar/".count).split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[1].isEmpty {
                return (.static, buddyImages.defaultAvatar(request, flags: String(parts[0]), name: String(parts[1])))
            }
        }
        if rest.hasPrefix("static/") && rest.count > "static/".count {
            return (.static, staticFiles.serve(request, path: String(rest.dropFirst("static/".count))))
        }
        if rest.hasPrefix("api/v1/sessions/") && config.usersEnabled {
            let tail = rest.dropFirst("api/v1/sessions/".count)
            let segs = tail.split(separator: "/", omittingEmptySubsequences: false)
            if segs.count == 1 && !segs[0].isEmpty { return (.api, Reply.redirect(base + rest + "/" + suffix, htmlBody: true)) }
            if segs.count == 2 && !segs[0].isEmpty && segs[1].isEmpty { return (.api, await self.rest.handle(request, resource: "sessions/\(segs[0])/")) }
        }
        if rest.hasPrefix("api/mx/") {
            guard let mx else { return (.api, Reply.error(.notFound, "not_found", "The conference API is disabled ([conferences] enabled = false)")) }
            return (.api, await mx.handle(request, path: String(rest.dropFirst("api/mx/".count))))
        }
        if rest.hasSuffix("/") {
            // Strict-slash redirects exist only where a route would match without the slash: any method for a
            // one-segment room (route 12), GET for everything else (route 13).
            let trimmed = String(rest.dropLast())
            guard method == .get || !trimmed.contains("/") else { return (.other, Reply.empty(.methodNotAllowed)) }
            return (.other, Reply.redirect(base + trimmed + suffix, htmlBody: true))
        }

        switch rest {
        case "robots.txt":
            return (.static, staticFiles.file(request, at: staticFiles.root.appendingPathComponent("robots.txt"), longCache: false))
        case "favicon.ico":
            return (.static, staticFiles.file(request, at: staticFiles.root.appendingPathComponent("img/favicon.ico"), longCache: false))
        case ".well-known/spreed-configuration":
            return (.other, page.wellKnown(request))
        case "ws":
            guard method == .get else { return (.ws, Reply.empty(.methodNotAllowed)) }
            if let refusal = webSocketRefusal(request.headers, authority: request.head.authority) { return (.ws, refusal) }
            return (.ws, Reply.text(.badRequest, "Bad Request"))
        default: break
        }

        let segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        if segments.count == 4 && segments[0] == "sandbox" && segments[3].hasSuffix(".html") {
            return (.page, page.sandbox(request, scheme: String(segments[1]), host: String(segments[2]),
                                        name: String(segments[3].dropLast(5))))
        }
        if rest.hasPrefix("api/v1/") {
            let resource = String(rest.dropFirst("api/v1/".count))
            if isEnabledResource(resource) { return (.api, await self.rest.handle(request, resource: resource)) }
            if resource.hasPrefix("whip/") || resource.hasPrefix("whep/") {
                return (.api, await whip.handle(request, rest: resource, body: { try await self.rest.readBody(request) }))
            }
            if method == .get { return (.api, Reply.error(.notFound, "not_found", "No such API resource")) }
            return (.api, Reply.empty(.methodNotAllowed))
        }
        if segments.count == 1 {
            return (.page, page.render(request, room: decodeRoom(rest)))
        }
        guard method == .get else { return (.other, Reply.empty(.methodNotAllowed)) }
        return (.page, page.render(request, room: decodeRoom(rest)))
    }

    private func isEnabledResource(_ resource: String) -> Bool {
        switch resource {
        case "config", "rooms", "tokens": return true
        case "users": return config.usersEnabled && config.usersAllowRegistration
        case "stats": return config.stats
        default: return false
        }
    }

    private func decodeRoom(_ s: String) -> String { s.removingPercentEncoding ?? s }

    /// With a token file, `/ws` needs the access cookie from `/api/v1/tokens` and a same-origin `Origin`
    /// (the original accepted anyone). Returns the refusal, or nil when the upgrade may proceed.
    func webSocketRefusal(_ headers: HTTPFields, authority: String?) -> Response? {
        guard let accessTokens else { return nil }
        guard let value = cookie(named: AccessTokens.cookieName, in: headers[.cookie]), accessTokens.validCookie(value) else {
            return Reply.error(.forbidden, "access_required", "A valid access code is required")
        }
        if let origin = headers[.origin], let host = authority {
            let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
            if originHost != host { return Reply.error(.forbidden, "bad_origin", "Origin does not match Host") }
        }
        return nil
    }
}

/// Request counters and latency histograms per route class, created once (no factory lookups per request).
struct HTTPMetrics: Sendable {
    enum Route: String, CaseIterable, Sendable { case page, `static`, api, ws, other }

    let registry: PrometheusExposition
    private let counters: [Route: Counter]
    private let timers: [Route: Metrics.Timer]
    private let errors: Counter

    init(registry: PrometheusExposition) {
        self.registry = registry
        var c: [Route: Counter] = [:], t: [Route: Metrics.Timer] = [:]
        for r in Route.allCases {
            c[r] = Counter(label: "rooms_http_requests_total", dimensions: [("route", r.rawValue)])
            t[r] = Metrics.Timer(label: "rooms_http_request_duration_seconds", dimensions: [("route", r.rawValue)])
        }
        counters = c
        timers = t
        errors = Counter(label: "rooms_http_server_errors_total")
    }

    func record(route: Route, status: Int, nanoseconds: UInt64) {
        counters[route]?.increment()
        timers[route]?.recordNanoseconds(Int64(nanoseconds))
        if status >= 500 { errors.increment() }
    }

    /// Refreshes the hub gauges from the hub's own counters at scrape time, then renders the registry.
    func exposition(hub: Hub, sfu: SFUMedia?) async -> Response {
        await sfu?.recordMetrics()
        let c = hub.counters()
        Gauge(label: "rooms_channeling_connections").record(c.connections)
        Gauge(label: "rooms_channeling_users").record(c.users)
        Gauge(label: "rooms_channeling_rooms").record(c.rooms)
        Gauge(label: "rooms_channeling_connections_accepted").record(c.count)
        return Reply.bytes(.ok, registry.emit(), type: "text/plain; version=0.0.4; charset=utf-8")
    }
}
