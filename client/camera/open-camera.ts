/**
 * The camera, asked for only when the visitor clicks: one function that opens it and turns each way it can be
 * unavailable (refused, missing, busy, insecure origin) into a plain message the page shows as it is.
 */

/** Why the camera cannot be used, in words for the visitor; the file path still works in every case. */
export class CameraUnavailableError extends Error {
  override name = 'CameraUnavailableError';
  constructor(
    message: string,
    readonly reason: 'insecure' | 'refused' | 'missing' | 'busy' | 'failed',
  ) {
    super(message);
  }
}

/** What still works without the camera, said after each reason (callers say what fits where they ask). */
const FILES_STILL_WORK = 'You can still add photos from files or a folder.';

/**
 * Why this page can never have the camera, known without asking for it (so without a prompt), or null.
 * getUserMedia exists only in secure contexts (https, localhost).
 */
export function cameraUnavailableHere(stillWorks = FILES_STILL_WORK): CameraUnavailableError | null {
  if (window.isSecureContext && typeof navigator.mediaDevices?.getUserMedia === 'function') return null;
  return new CameraUnavailableError(`The camera needs a secure page (https or localhost). ${stillWorks}`, 'insecure');
}

/** Opens the camera facing the visitor, at about the size the model needs (it scales to 224 px anyway). */
export async function openCamera(stillWorks = FILES_STILL_WORK): Promise<MediaStream> {
  const unavailable = cameraUnavailableHere(stillWorks);
  if (unavailable) throw unavailable;
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
    });
  } catch (error) {
    const name = (error as DOMException | undefined)?.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new CameraUnavailableError(`Camera access was refused. Allow it in the browser's site settings to use it. ${stillWorks}`, 'refused');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      throw new CameraUnavailableError(`No camera was found on this device. ${stillWorks}`, 'missing');
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      throw new CameraUnavailableError(`The camera is in use by another app or tab. Close it and try again. ${stillWorks}`, 'busy');
    }
    throw new CameraUnavailableError(`The camera could not be opened (${(error as Error)?.message ?? String(error)}). ${stillWorks}`, 'failed');
  }
}

/** Turns the camera off (its light too). */
export function closeCamera(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((track) => track.stop());
}
