// NACKs to publishers for video lost on the way in (see LossTracker for the schedule). A gap is asked for once the
// burst of datagrams that revealed it has been handled (one task on the loop, so one NACK covers every gap of the
// burst), retries run on one timer per router armed for the earliest deadline of any layer, and nothing runs while
// nothing is missing. A packet given up on, or a jump too big to NACK, gets a keyframe request for its layer.

import NIOCore

extension Router {
    /// What an arriving publisher packet of `layer` meant for loss recovery.
    func noteArrival(_ arrival: LossTracker.Arrival, producer: Producer, layer: ProducerLayer) {
        switch arrival {
        case .gap: scheduleNackFlush()
        case .reset: requestKeyframe(producer, layer: layer.index)
        case .inOrder, .duplicate, .repaired: break
        }
    }

    /// NACKs new gaps after the current burst of datagrams (the loop runs its tasks after the reads).
    func scheduleNackFlush() {
        guard !nackFlushScheduled else { return }
        nackFlushScheduled = true
        eventLoop.execute { [weak self] in self?.flushPublisherNacks() }
    }

    /// Sends what is due on every video layer (new gaps and retries), asks for keyframes where packets were given
    /// up, and arms the timer for the next deadline.
    func flushPublisherNacks(nowNanos: UInt64 = NIODeadline.now().uptimeNanoseconds) {
        nackFlushScheduled = false
        var next: UInt64?
        for producer in producersInOrder where producer.kind == .video && producer.transport.isConnected {
            for layer in producer.layers where !layer.loss.missing.isEmpty {
                guard let ssrc = layer.ssrc else { continue }
                nackScratch.removeAll(keepingCapacity: true)
                let givenUp = layer.loss.collectNacks(nowNanos: nowNanos, into: &nackScratch)
                if givenUp > 0 {
                    // A hole the publisher never filled: every decoder of this layer is stuck until a keyframe, so
                    // ask now rather than wait for subscribers' PLIs (or Chrome's 3 s keyframe timer).
                    statistics.packetsGivenUp += givenUp
                    requestKeyframe(producer, layer: layer.index, now: .uptimeNanoseconds(nowNanos))
                }
                if !nackScratch.isEmpty {
                    statistics.nacksSent += 1
                    statistics.packetsNacked += nackScratch.count
                    let nack = RTCPNack(senderSSRC: producer.transport.rtcpSSRC, mediaSSRC: ssrc, sequenceNumbers: nackScratch)
                    producer.transport.sendRtcp([.nack(nack)])
                }
                if let due = layer.loss.nextDeadlineNanos() { next = min(next ?? due, due) }
            }
        }
        if let next { armNackTimer(deadlineNanos: next) }
    }

    private func armNackTimer(deadlineNanos: UInt64) {
        if nackTimer != nil && nackTimerDeadlineNanos <= deadlineNanos { return }
        nackTimer?.cancel()
        nackTimerDeadlineNanos = deadlineNanos
        nackTimer = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(deadlineNanos)) { [weak self] in
            guard let self else { return }
            self.nackTimer = nil
            self.flushPublisherNacks()
        }
    }
}
