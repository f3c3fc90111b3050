import Foundation
import Hummingbird

/// The room page (rest-api §3): served for every room URL, carrying the `globalcontext` JSON that the client reads.
struct AppPage: Sendable {
    let config: ServerConfig
    /// `GET /api/v1/config` and `globalcontext.Cfg` are the same document; built once.
    let configDocument: JSONValue
    /// `GET /api/v1/config` body, serialised once (the hottest REST route).
    let configBody: [UInt8]

    /// The root holds Spreed's own built client: serve its page markup so the unchanged original client runs.
    let spreedClient: Bool

    init(config: ServerConfig) {
        self.config = config
        spreedClient = FileManager.default.fileExists(atPath: config.root + "/static/js/libs/require/require.js")
        let c = config
        configDocument = .object([
            ("Title", .string(c.title)),
            ("S", .string(c.staticPrefix)),
            ("B", .string(c.basePath)),
            ("Token", .string(c.serverToken)),
            ("Renegotiation", .bool(c.renegotiation)),
            ("StunURIs", JSONValue.strings(c.stunURIs)),
            ("TurnURIs", JSONValue.strings(c.turnURIs)),
            ("Tokens", .bool(c.tokenFile != nil)),
            ("Version", .string(c.version)),
            ("UsersEnabled", .bool(c.usersEnabled)),
            ("UsersAllowRegistration", .bool(c.usersAllowRegistration)),
            ("UsersMode", .string(c.usersMode)),
            ("DefaultRoomEnabled", .bool(c.defaultRoomEnabled)),
            ("Plugin", .string(c.plugin)),
            ("AuthorizeRoomCreation", .bool(c.authorizeRoomCreation)),
            ("AuthorizeRoomJoin", .bool(c.authorizeRoomJoin)),
            ("Modules", JSONValue.strings(c.enabledModules)),
        ])
        configBody = Array(configDocument.serialized(indent: true).utf8)
    }

    /// TLS decided by `X-Forwarded-Proto` when present (first value, case-sensitive), else the connection (plain).
    static func isSecure(_ request: Request) -> Bool {
        if let proto = request.headers[.init("X-Forwarded-Proto")!] {
            return proto.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } == "https"
        }
        return false
    }

    static func host(_ request: Request) -> String {
        request.head.authority ?? ""
    }

    /// The original's Accept-Language ordering (rest-api §3).
    static func languages(_ header: String?) -> [String] {
        guard let header else { return ["en"] }
        let items = header.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        var scored: [(lang: String, q: Double, index: Int)] = []
        for (index, item) in items.enumerated() {
            let parts = item.split(separator: ";", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let lang = parts.first, !lang.isEmpty else { continue }
            var q = Double(items.count - index)
            if parts.count > 1, let eq = parts[1].range(of: "q=") {
                let v = Double(parts[1][eq.upperBound...].trimmingCharacters(in: .whitespaces)) ?? 1
                if v > 0 { q = v }
            }
            scored.append((lang, q, index))
        }
        if scored.isEmpty { return ["en"] }
        return scored.sorted { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }.map(\.lang)
    }

    func globalContext(_ request: Request) -> String {
        let ctx = JSONValue.object([
            ("App", .string("main")),
            ("Cfg", configDocument),
            ("Host", .string(Self.host(request))),
            ("Ssl", .bool(Self.isSecure(request))),
            ("Csp", .bool(config.cspEnabled)),
            ("Languages", JSONValue.strings(Self.languages(request.headers[.acceptLanguage]))),
            ("S", .string(config.staticPrefix)),
        ])
        return ctx.serialized(indent: false, escapeHTML: true)
    }

    var pageHeaders: HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "text/html; charset=UTF-8"
        h[.expires] = "-1"
        h[.cacheControl] = "private, max-age=0"
        if !config.contentSecurityPolicy.isEmpty { h[.contentSecurityPolicy] = config.contentSecurityPolicy }
        if !config.contentSecurityPolicyReportOnly.isEmpty {
            h[.init("Content-Security-Policy-Report-Only")!] = config.contentSecurityPolicyReportOnly
        }
        return h
    }

    func render(_ request: Request, room: String) -> Response {
        let query = request.uri.query ?? ""
        let isCrawler = query.split(separator: "&").contains { $0.split(separator: "=", maxSplits: 1).first == "_escaped_fragment_" }
        let html = isCrawler ? crawlerHTML(request, room: room) : mainHTML(request)
        let body = Array(html.utf8)
        return Reply.compressed(Response(status: .ok, headers: pageHeaders, body: .init(byteBuffer: .init(bytes: body))), for: request, body: body)
    }

    /// Spreed's own built client (when the web root holds it, rest-api §3 `mainPage`), else Rooms' client module.
    private func mainHTML(_ request: Request) -> String {
        let s = config.staticPrefix
        let plugin = htmlEscape(config.plugin)
        let styles = spreedClient ? ["bootstrap.min.css", "font-awesome.min.css", "main.min.css"] : ["main.css"]
        let body = spreedClient
            ? """
              <div id="loader"><div class="loader-message"></div></div>
              <ui></ui>
              <script data-main="\(s)/js/main" data-plugin="\(plugin)" src="\(s)/js/libs/require/require.js"></script>
              """
            : """
              <div id="loader"></div>
              <ui></ui>
              <main id="app"><noscript>Rooms needs JavaScript.</noscript></main>
              <script type="module" src="\(s)/js/main.js" data-plugin="\(plugin)"></script>
              """
        let links = ((config.cspEnabled ? ["csp.min.css"] : []) + styles)
            .map { "<link rel=\"stylesheet\" type=\"text/css\" href=\"\(s)/css/\($0)\">" }.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html class="no-js wf-loading"\(config.cspEnabled ? " ng-csp" : "")>
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(htmlEscape(config.title))</title>
        <base href="\(htmlEscape(config.basePath))">
        \(links)
        <script id="globalcontext" type="application/json">\(globalContext(request))</script>
        </head>
        <body spreed-webrtc>
        <div id="background"></div>
        \(body)
        </body>
        </html>
        """
    }

    private func crawlerHTML(_ request: Request, room: String) -> String {
        let scheme = Self.isSecure(request) ? "https" : "http"
        let image = "\(scheme)://\(Self.host(request))\(config.basePath)static/img/opengraph-image.png"
        return """
        <!DOCTYPE html>
        <html>
        <head>
        <meta charset="utf-8">
        <title>\(htmlEscape(config.title))</title>
        <meta property="og:title" content="\(htmlEscape("/" + room))">
        <meta property="og:site_name" content="\(htmlEscape(config.title))">
        <meta property="og:image" content="\(htmlEscape(image))">
        </head>
        <body></body>
        </html>
        """
    }

    // MARK: sandboxes (rest-api §5)

    func sandbox(_ request: Request, scheme: String, host: String, name: String) -> Response {
        guard scheme.hasSuffix(":"), scheme.count > 1, !host.isEmpty,
              scheme.dropLast().allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }),
              !host.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == ";" || $0 == "<" || $0 == ">" })
        else { return Reply.text(.badRequest, "Invalid origin path") }
        let origin = "\(scheme.dropLast())://\(host)"
        let csp: String
        switch name {
        case "odfcanvas":
            csp = "default-src 'none'; script-src \(origin); img-src data: blob:; style-src 'unsafe-inline'"
        case "pdfcanvas":
            csp = "default-src 'none'; script-src \(origin) 'unsafe-eval'; img-src 'self' data: blob:; style-src 'unsafe-inline'"
        case "youtubevideo":
            // The original sent `default-src 'none'` here, which blocked the sandbox's own script: send the
            // policy its template intended instead.
            csp = "default-src 'none'; script-src \(origin) https://www.youtube.com https://s.ytimg.com 'unsafe-eval'; frame-src https://www.youtube.com; style-src 'unsafe-inline'"
        default:
            return Reply.text(.notFound, "404 Unknown Sandbox")
        }
        var h = pageHeaders
        h[.contentSecurityPolicy] = csp
        h[.init("Content-Security-Policy-Report-Only")!] = nil
        let html = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>\(name) sandbox</title><base href="\(htmlEscape(config.basePath))"></head>
        <body><script src="\(htmlEscape(origin))\(htmlEscape(config.basePath))\(config.staticPrefix)/js/sandboxes/\(name).js"></script></body></html>
        """
        let body = Array(html.utf8)
        return Reply.compressed(Reply.bytes(.ok, body, type: nil, headers: h), for: request, body: body)
    }

    func wellKnown(_ request: Request) -> Response {
        let scheme = Self.isSecure(request) ? "https" : "http"
        var base = config.basePath
        if base.hasSuffix("/") { base.removeLast() }
        return Reply.json(.ok, .object([("spreed-webrtc_endpoint", .string("\(scheme)://\(Self.host(request))\(base)"))]),
                          type: "application/json")
    }
}
