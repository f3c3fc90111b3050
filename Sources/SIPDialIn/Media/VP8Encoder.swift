// libvpx's VP8 encoder for the phone's avatar tile: a still picture at a low frame rate, so a realtime, low-bitrate
// configuration; keyframes on request (a new subscriber's PLI) and every few seconds.

import CVPX

enum VP8EncoderError: Error { case library(String) }

final class VP8Encoder {
    let width: Int, height: Int
    private var context = vpx_codec_ctx_t()
    private var image = vpx_image_t()
    private var frameIndex: Int64 = 0

    init(width: Int, height: Int, fps: Int, bitrateKbps: UInt32 = 80) throws {
        self.width = width
        self.height = height
        var config = vpx_codec_enc_cfg_t()
        guard cvpx_vp8_encoder_init(&context, &config) == VPX_CODEC_OK else { throw VP8EncoderError.library("config") }
        config.g_w = UInt32(width)
        config.g_h = UInt32(height)
        config.g_timebase = vpx_rational(num: 1, den: Int32(fps))
        config.rc_target_bitrate = bitrateKbps
        config.g_threads = 1
        config.g_lag_in_frames = 0
        config.g_error_resilient = UInt32(VPX_ERROR_RESILIENT_DEFAULT)
        config.rc_end_usage = VPX_CBR
        config.kf_mode = VPX_KF_AUTO
        config.kf_max_dist = UInt32(fps * 4)
        guard cvpx_vp8_encoder_open(&context, &config) == VPX_CODEC_OK else {
            throw VP8EncoderError.library(String(cString: vpx_codec_error(&context)))
        }
        guard vpx_img_alloc(&image, VPX_IMG_FMT_I420, UInt32(width), UInt32(height), 16) != nil else {
            vpx_codec_destroy(&context)
            throw VP8EncoderError.library("image")
        }
    }

    deinit {
        vpx_img_free(&image)
        vpx_codec_destroy(&context)
    }

    /// Sets the picture to encode from RGBA pixels (BT.601 conversion to I420).
    func setPicture(rgba: [UInt8]) {
        let (w, h) = (width, height)
        let yPlane = image.planes.0!, uPlane = image.planes.1!, vPlane = image.planes.2!
        let (yStride, uStride, vStride) = (Int(image.stride.0), Int(image.stride.1), Int(image.stride.2))
        for y in 0 ..< h {
            for x in 0 ..< w {
                let i = (y * w + x) * 4
                let (r, g, b) = (Int(rgba[i]), Int(rgba[i + 1]), Int(rgba[i + 2]))
                yPlane[y * yStride + x] = UInt8(clamping: ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16)
                if y % 2 == 0 && x % 2 == 0 {
                    uPlane[(y / 2) * uStride + x / 2] = UInt8(clamping: ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128)
                    vPlane[(y / 2) * vStride + x / 2] = UInt8(clamping: ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128)
                }
            }
        }
    }

    /// Encodes the picture once more; `body` gets each compressed frame (normally one) and whether it is a keyframe.
    func encode(keyframe: Bool, _ body: (UnsafeRawBufferPointer, Bool) -> Void) throws {
        let flags: vpx_enc_frame_flags_t = keyframe ? cvpx_force_keyframe() : 0
        guard vpx_codec_encode(&context, &image, frameIndex, 1, flags, cvpx_realtime()) == VPX_CODEC_OK else {
            throw VP8EncoderError.library(String(cString: vpx_codec_error(&context)))
        }
        frameIndex += 1
        var iterator: vpx_codec_iter_t? = nil
        while let packet = vpx_codec_get_cx_data(&context, &iterator) {
            var buffer: UnsafeRawPointer? = nil
            var size = 0
            var key: Int32 = 0
            if cvpx_frame_packet(packet, &buffer, &size, &key) == 1, let buffer {
                body(UnsafeRawBufferPointer(start: buffer, count: size), key != 0)
            }
        }
    }
}
