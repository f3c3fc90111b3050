// Camera and microphone access. Turns getUserMedia failures into a stream that carries whatever we could get, plus
// the reason for what is missing, so that a denied camera still lets the person join with audio (or with nothing).

export async function listDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return { cameras: [], microphones: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: all.filter((d) => d.kind === "videoinput"),
    microphones: all.filter((d) => d.kind === "audioinput"),
  };
}

function videoConstraints(cameraId) {
  // 720p ideal so that the simulcast "f" layer is worth having; browsers pick the closest the camera offers.
  const c = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
  if (cameraId) c.deviceId = { exact: cameraId };
  return c;
}

function audioConstraints(micId) {
  const c = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  if (micId) c.deviceId = { exact: micId };
  return c;
}

/** Describe a getUserMedia error in words a participant can act on. */
export function mediaErrorText(err, what) {
  const name = err?.name ?? "";
  if (name === "NotAllowedError" || name === "SecurityError") return `Access to your ${what} was denied. You can join without it, or allow it in the browser's site settings.`;
  if (name === "NotFoundError" || name === "OverconstrainedError") return `No ${what} found.`;
  if (name === "NotReadableError") return `Your ${what} is in use by another application.`;
  return `Could not start your ${what}.`;
}

/**
 * Get a stream with camera and/or microphone. Tries both, then each alone, so one failing device does not cost
 * the other. A remembered device that disappeared falls back to the default device.
 * @returns {Promise<{stream: MediaStream, videoError: string|null, audioError: string|null}>}
 */
export async function getLocalMedia({ cameraId = "", micId = "", video = true, audio = true } = {}) {
  const md = navigator.mediaDevices;
  if (!md?.getUserMedia) {
    const msg = "This browser cannot access camera or microphone here (a secure https:// page is needed).";
    return { stream: new MediaStream(), videoError: video ? msg : null, audioError: audio ? msg : null };
  }
  const attempt = async (v, a) => {
    try {
      return await md.getUserMedia({ video: v ? videoConstraints(cameraId) : false, audio: a ? audioConstraints(micId) : false });
    } catch (err) {
      if (err?.name === "OverconstrainedError" && (cameraId || micId)) {
        // The remembered device is gone: use the default one.
        return md.getUserMedia({ video: v ? videoConstraints("") : false, audio: a ? audioConstraints("") : false });
      }
      throw err;
    }
  };
  if (video && audio) {
    try {
      return { stream: await attempt(true, true), videoError: null, audioError: null };
    } catch { /* fall through to one at a time */ }
  }
  const stream = new MediaStream();
  let videoError = null, audioError = null;
  if (audio) {
    try { (await attempt(false, true)).getTracks().forEach((t) => stream.addTrack(t)); } catch (err) { audioError = mediaErrorText(err, "microphone"); }
  }
  if (video) {
    try { (await attempt(true, false)).getTracks().forEach((t) => stream.addTrack(t)); } catch (err) { videoError = mediaErrorText(err, "camera"); }
  }
  return { stream, videoError, audioError };
}

export function stopStream(stream) {
  stream?.getTracks().forEach((t) => t.stop());
}

/** Screen capture; resolves to null when the person cancels the picker. */
export async function getScreen() {
  if (!navigator.mediaDevices?.getDisplayMedia) throw new Error("Screen sharing is not supported by this browser.");
  try {
    return await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  } catch (err) {
    if (err?.name === "NotAllowedError" || err?.name === "AbortError") return null;
    throw err;
  }
}
