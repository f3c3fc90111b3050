import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Users

/// The `[users] mode` handler (server-conf §users): how a request proves a user id.
struct UserModes: Sendable {
    enum Mode: Sendable {
        case none
        case sharedsecret(SharedSecretAuth)
        case httpheader(String)
        /// The CA (nil when only verifying via proxy headers without a signing key) and the proxy-mode settings.
        case certificate(CertificateAuthority?, ProxyCertificate)
    }

    struct ProxyCertificate: Sendable {
        var verifiedHeader: String
        var verifiedValue: String
        var certificateHeader: String
    }

    let mode: Mode

    var canRegister: Bool {
        switch mode {
        case .none: return false
        case .certificate(let ca, _): return ca != nil
        default: return true
        }
    }

    init(config: ServerConfig, logger: Logger) {
        guard config.usersEnabled else { mode = .none; return }
        switch config.usersMode.lowercased() {
        case "sharedsecret" where !config.sharedSecret.isEmpty:
            mode = .sharedsecret(SharedSecretAuth(secret: config.sharedSecret))
        case "httpheader":
            mode = .httpheader(config.httpHeaderName)
        case "certificate" where !config.certificateCertificate.isEmpty:
            let proxy = ProxyCertificate(verifiedHeader: config.certificateVerifiedHeader,
                                         verifiedValue: config.certificateVerifiedHeaderValue,
                                         certificateHeader: config.certificateHeader)
            do {
                let certPEM = try String(contentsOfFile: config.certificateCertificate, encoding: .utf8)
                let keyPEM = config.certificateKey.isEmpty ? nil : try String(contentsOfFile: config.certificateKey, encoding: .utf8)
                mode = .certificate(try CertificateAuthority(certificatePEM: certPEM, keyPEM: keyPEM), proxy)
            } catch {
                logger.error("certificate mode: cannot load the CA; logins and registration are disabled", metadata: ["error": "\(error)"])
                mode = .none
            }
        default:
            mode = .none
        }
    }

    /// The user id carried by a request itself (httpheader / certificate proxy mode), used on `/ws` upgrades.
    func headerUserid(_ headers: HTTPFields) -> String? {
        switch mode {
        case .httpheader(let name):
            return HTTPField.Name(name).flatMap { headers[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        case .certificate(_, let proxy):
            guard !proxy.verifiedHeader.isEmpty, !proxy.verifiedValue.isEmpty, !proxy.certificateHeader.isEmpty,
                  let vName = HTTPField.Name(proxy.verifiedHeader), headers[vName] == proxy.verifiedValue,
                  let cName = HTTPField.Name(proxy.certificateHeader), let pem = headers[cName] else { return nil }
            return try? CertificateAuthority.commonName(fromPEMHeader: pem)
        default:
            return nil
        }
    }

    /// The user id proven by a sessions PATCH (rest-api §7.4), or nil.
    func loginUserid(_ request: Request, useridcombo: String, secret: String) -> String? {
        switch mode {
        case .none: return nil
        case .sharedsecret(let auth): return auth.validate(useridcombo: useridcombo, secret: secret, now: Date())
        case .httpheader, .certificate: return headerUserid(request.headers)
        }
    }
}
