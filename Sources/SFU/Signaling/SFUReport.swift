import NIOCore

/// Counters for `/api/v1/stats` and `/metrics`: the media socket and, per room, its producers and consumers.
public struct SFURoomReport: Sendable {
    public var room: String
    public var transports: Int
    public var producers: Int
    public var consumers: Int
    public var packetsReceived: Int
    public var packetsSent: Int
    public var feedback: Router.Statistics
}

extension SFUService {
    /// A snapshot read on each owner's loop (the control loop for the room list, each router's loop for its room).
    public func report() async -> (socket: UdpMuxStatistics?, rooms: [SFURoomReport]) {
        let socket = try? await statistics()
        var rooms: [SFURoomReport] = []
        for (name, router) in await allRouters() {
            guard let r = try? await router.eventLoop.submit({ () -> SFURoomReport in
                let producers = router.producers
                let consumers = producers.flatMap(\.consumers)
                return SFURoomReport(
                    room: name, transports: Set(producers.map { ObjectIdentifier($0.transport) } + consumers.map { ObjectIdentifier($0.transport) }).count,
                    producers: producers.count, consumers: consumers.count,
                    packetsReceived: producers.reduce(0) { $0 + $1.packetsReceived },
                    packetsSent: consumers.reduce(0) { $0 + Int($1.packetsSent) },
                    feedback: router.statistics)
            }).get() else { continue }
            rooms.append(r)
        }
        return (socket, rooms.sorted { $0.room < $1.room })
    }
}
