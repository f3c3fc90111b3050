import Channeling
import ServiceLifecycle

/// Deletes rooms that stayed empty past their expiry, every few seconds, until shutdown.
struct RoomSweeper: Service {
    let hub: Hub

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(nanoseconds: 5_000_000_000)
            await hub.sweepRooms()
        }
    }
}
