import Channeling
import Foundation
import Logging
import SIPDialIn
import Users

extension MXAPI {
    /// The tables the conference API keeps in the server database (pass them to `SQLiteStore(path:migrations:)`).
    static var migrations: [StoreMigration] { ConferenceStore.migrations + MXTokenStore.migrations }

    /// The API as configured, or nil when `[conferences] enabled = false`. `conferences` is the same store the SIP
    /// dial-in uses as its `ConferenceDirectory`.
    static func make(config: ServerConfig, store: SQLiteStore, conferences: ConferenceStore, hub: Hub, logger: Logger) async throws -> MXAPI? {
        let settings = config.conferences
        guard settings.enabled else { return nil }
        let tokens = try await MXTokenAuthority(
            store: MXTokenStore(db: store.dbWriter),
            settings: .init(tokenTTL: settings.tokenTTL, signKeyTTL: settings.signKeyTTL, issuer: "rooms:\(config.serverRealm)"))
        let accounts = MXAccounts(config: settings, realm: config.serverRealm,
                                  softPhoneKey: try store.secret(named: "mx.softPhoneKey", generatingBytes: 32))
        logger.notice("conference API enabled", metadata: [
            "path": "\(config.basePath)api/mx/", "apps": "\(settings.apps.count)", "users": "\(settings.users.count)",
            "tokenTTL": "\(Int(settings.tokenTTL))s", "signKeyTTL": "\(Int(settings.signKeyTTL))s",
        ])
        return MXAPI(config: config, accounts: accounts, tokens: tokens, conferences: conferences,
                     presence: HubRoomPresence(hub: hub), logger: Logger(label: "rooms.mx"), metrics: MXMetrics())
    }
}
