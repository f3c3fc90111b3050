// Just enough of the H.264 RTP payload (RFC 6184) to forward it: where a keyframe starts and, from its sequence
// parameter set (ITU-T H.264 §7.3.2.1.1), the picture size for simulcast layer choice.
//
// A keyframe starts at the packet carrying the SPS (encoders put SPS, PPS and the IDR slice in one access unit; a
// decoder fed from the IDR slice alone lacks the parameter sets, so we prefer the SPS). When an encoder sends an IDR
// slice with no SPS in front of it, the IDR's first packet counts. Packetizations: single NAL unit (types 1–23),
// STAP-A (24: 16-bit size + NAL, repeated) and FU-A (28: FU indicator, FU header with S bit and the NAL type).
// STAP-B, MTAP and FU-B (interleaved mode, packetization-mode=2) are not negotiated and count as no keyframe.

enum H264NALType {
    static let idr: UInt8 = 5
    static let sps: UInt8 = 7
    static let pps: UInt8 = 8
    static let stapA: UInt8 = 24
    static let fuA: UInt8 = 28
}

extension FrameDescriptor {
    init?(h264 payload: UnsafeRawBufferPointer) {
        self.init()
        guard payload.count >= 1 else { return nil }
        let type = payload[0] & 0x1F
        switch type {
        case 1 ... 23:
            if type == H264NALType.sps {
                isKeyframeStart = true
                readSize(fromSPS: UnsafeRawBufferPointer(rebasing: payload[0...]))
            } else if type == H264NALType.idr {
                isKeyframeStart = true
            }
        case H264NALType.stapA:
            var offset = 1
            while offset + 2 <= payload.count {
                let size = Int(payload[offset]) << 8 | Int(payload[offset + 1])
                offset += 2
                guard size > 0, offset + size <= payload.count else { return nil } // truncated aggregate
                let nal = UnsafeRawBufferPointer(rebasing: payload[offset ..< offset + size])
                switch nal[0] & 0x1F {
                case H264NALType.sps:
                    isKeyframeStart = true
                    if width == 0 { readSize(fromSPS: nal) }
                case H264NALType.idr: isKeyframeStart = true
                default: break
                }
                offset += size
            }
            guard offset == payload.count else { return nil } // a dangling size byte
        case H264NALType.fuA:
            guard payload.count >= 2 else { return nil }
            let header = payload[1]
            let start = header & 0x80 != 0
            let nalType = header & 0x1F
            isKeyframeStart = start && (nalType == H264NALType.idr || nalType == H264NALType.sps)
        default:
            return nil // 0, 30, 31 are reserved; 25–27 and 29 need interleaved mode
        }
    }

    /// Picture size from an SPS NAL unit (header byte included); leaves 0 × 0 when it cannot be read.
    private mutating func readSize(fromSPS nal: UnsafeRawBufferPointer) {
        guard let size = H264SPS.pictureSize(nal) else { return }
        (width, height) = size
    }
}

enum H264SPS {
    /// Width and height in pixels after cropping, or nil for a truncated or out-of-range SPS.
    static func pictureSize(_ nal: UnsafeRawBufferPointer) -> (Int, Int)? {
        // Emulation prevention (00 00 03) must go before bits are read; an SPS is a few dozen bytes, copied once per
        // keyframe, never per packet. 64 bytes cover every field up to the cropping window.
        var rbsp: [UInt8] = []
        rbsp.reserveCapacity(min(nal.count, 64))
        var zeros = 0
        for byte in nal.dropFirst().prefix(96) {
            if zeros >= 2 && byte == 3 { zeros = 0; continue }
            zeros = byte == 0 ? zeros + 1 : 0
            rbsp.append(byte)
        }
        return rbsp.withUnsafeBytes { read($0) }
    }

    private static func read(_ bytes: UnsafeRawBufferPointer) -> (Int, Int)? {
        var r = BitReader(bytes)
        guard let profile = r.bits(8), r.bits(16) != nil, r.unsignedExpGolomb() != nil else { return nil }
        var chromaFormat: UInt32 = 1
        var separateColourPlanes = false
        if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
            guard let chroma = r.unsignedExpGolomb(), chroma <= 3 else { return nil }
            chromaFormat = chroma
            if chroma == 3 { guard let s = r.bit() else { return nil }; separateColourPlanes = s == 1 }
            guard r.unsignedExpGolomb() != nil, r.unsignedExpGolomb() != nil, r.bit() != nil,
                  let scalingMatrix = r.bit() else { return nil }
            if scalingMatrix == 1 {
                for list in 0 ..< (chromaFormat == 3 ? 12 : 8) {
                    guard let present = r.bit() else { return nil }
                    guard present == 1 else { continue }
                    var last = 8, next = 8
                    for _ in 0 ..< (list < 6 ? 16 : 64) where next != 0 {
                        guard let delta = r.signedExpGolomb() else { return nil }
                        next = (last + delta + 256) % 256
                        if next != 0 { last = next }
                    }
                }
            }
        }
        guard r.unsignedExpGolomb() != nil, let pocType = r.unsignedExpGolomb() else { return nil }
        switch pocType {
        case 0: guard r.unsignedExpGolomb() != nil else { return nil }
        case 1:
            guard r.bit() != nil, r.signedExpGolomb() != nil, r.signedExpGolomb() != nil,
                  let cycle = r.unsignedExpGolomb(), cycle <= 255 else { return nil }
            for _ in 0 ..< cycle { guard r.signedExpGolomb() != nil else { return nil } }
        case 2: break
        default: return nil
        }
        guard r.unsignedExpGolomb() != nil, r.bit() != nil, let widthMbs = r.unsignedExpGolomb(),
              let heightUnits = r.unsignedExpGolomb(), let frameMbsOnly = r.bit(), widthMbs < 1024, heightUnits < 1024
        else { return nil }
        if frameMbsOnly == 0 { guard r.bit() != nil else { return nil } }
        guard r.bit() != nil, let cropping = r.bit() else { return nil }
        var crop: (left: UInt32, right: UInt32, top: UInt32, bottom: UInt32) = (0, 0, 0, 0)
        if cropping == 1 {
            guard let l = r.unsignedExpGolomb(), let rt = r.unsignedExpGolomb(), let t = r.unsignedExpGolomb(),
                  let b = r.unsignedExpGolomb(), l < 8192, rt < 8192, t < 8192, b < 8192 else { return nil }
            crop = (l, rt, t, b)
        }
        let fieldFactor = 2 - Int(frameMbsOnly)
        let (subWidth, subHeight): (Int, Int) = {
            if chromaFormat == 0 || separateColourPlanes { return (1, 1) }
            switch chromaFormat { case 1: return (2, 2); case 2: return (2, 1); default: return (1, 1) }
        }()
        let width = (Int(widthMbs) + 1) * 16 - subWidth * Int(crop.left + crop.right)
        let height = fieldFactor * (Int(heightUnits) + 1) * 16 - subHeight * fieldFactor * Int(crop.top + crop.bottom)
        guard width > 0, height > 0 else { return nil }
        return (width, height)
    }
}
