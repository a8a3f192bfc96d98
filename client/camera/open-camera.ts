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

const FILES_STILL_WORK = 'You can still add photos from files or a folder.';

/** Opens the camera facing the visitor, at about the size the model needs (it scales to 224 px anyway). */
export async function openCamera(): Promise<MediaStream> {
  // getUserMedia exists only in secure contexts (https, localhost).
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    throw new CameraUnavailableError(`The camera needs a secure page (https or localhost). ${FILES_STILL_WORK}`, 'insecure');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } },
    });
  } catch (error) {
    const name = (error as DOMException | undefined)?.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new CameraUnavailableError(`Camera access was refused. Allow it in the browser's site settings to record. ${FILES_STILL_WORK}`, 'refused');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') {
      throw new CameraUnavailableError(`No camera was found on this device. ${FILES_STILL_WORK}`, 'missing');
    }
    if (name === 'NotReadableError' || name === 'AbortError') {
      throw new CameraUnavailableError(`The camera is in use by another app or tab. Close it and try again. ${FILES_STILL_WORK}`, 'busy');
    }
    throw new CameraUnavailableError(`The camera could not be opened (${(error as Error)?.message ?? String(error)}). ${FILES_STILL_WORK}`, 'failed');
  }
}

/** Turns the camera off (its light too). */
export function closeCamera(stream: MediaStream | null | undefined): void {
  stream?.getTracks().forEach((track) => track.stop());
}
