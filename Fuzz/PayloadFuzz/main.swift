// libFuzzer entry for the video payload readers (Sources/SFU/Wire/Codecs): VP8, VP9, H.264 and AV1 descriptors,
// keyframe detection and size parsing, and the picture id rewrite on a copy. The first byte picks the codec, the rest
// is the payload; besides "never trap", offsets a descriptor reports must lie inside the payload.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let codecs = VideoCodec.allCases
    let codec = codecs[Int(data[0]) % codecs.count]
    var payload = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let descriptor = payload.withUnsafeBytes { FrameDescriptor($0, codec: codec) }
    if let d = descriptor {
        if d.pictureID != nil, d.pictureIDOffset + (d.pictureIDIsLong ? 2 : 1) > payload.count {
            fatalError("picture id outside the payload")
        }
        if d.tl0PictureIndex != nil, d.tl0PictureIndexOffset >= payload.count { fatalError("TL0PICIDX outside the payload") }
        if d.width < 0 || d.height < 0 { fatalError("negative size") }
        payload.withUnsafeMutableBytes { d.rewrite($0, pictureID: 0x1234, tl0PictureIndex: 7) }
        // Rewriting ids must not change what the packet is.
        let again = payload.withUnsafeBytes { FrameDescriptor($0, codec: codec) }
        if again?.isKeyframeStart != d.isKeyframeStart { fatalError("rewrite changed the keyframe flag") }
    }
    _ = payload.withUnsafeBytes { H264SPS.pictureSize($0) }
    _ = payload.withUnsafeBytes { AV1.maximumFrameSize(sequenceHeader: $0) }
    _ = payload.withUnsafeBytes { VP9FrameHeader($0) }
    return 0
}
