// Dial-in in the service group (stopped with the server: calls are hung up, the registration is withdrawn) and
// its member of /api/v1/stats.

import Logging
import SIPDialIn
import ServiceLifecycle

final class DialInLifecycle: Service, @unchecked Sendable {
    let service: DialInService
    init(_ service: DialInService) { self.service = service }

    func run() async throws {
        try? await gracefulShutdown()
        await service.stop()
    }

    /// The `sip` member of /api/v1/stats (a Rooms addition).
    func statsDocument() async -> JSONValue {
        let stats = await service.statistics()
        let registration = await service.ua.registrationState()
        func i(_ v: Int) -> JSONValue { .int(Int64(v)) }
        var members: [(String, JSONValue)] = [
            ("udpPort", i(service.ua.udpPort ?? 0)), ("tcpPort", i(service.ua.tcpPort ?? 0)),
            ("calls", i(stats.calls)), ("bridges", i(stats.bridges)), ("phonesInRooms", i(stats.phonesInRooms)),
            ("mixTicks", i(stats.mixTicks)),
            ("mixMicrosecondsPerTick", i(stats.mixTicks == 0 ? 0 : Int(stats.mixNanoseconds / UInt64(stats.mixTicks) / 1000))),
        ]
        if let registration { members.append(("registration", .string("\(registration)"))) }
        if let count = await service.ua.successfulRegistrations() { members.append(("registrations", i(count))) }
        return .object(members)
    }
}
