/**
 * The camera your own classes record from: on and off at the visitor's click (never asked for before), its
 * picture in the video element it is given, and hold-to-record (recorder.ts) into one class at a time. A tab the
 * visitor cannot see stops the recording. The view shows what it says; it never touches the camera itself.
 */
import { closeCamera, openCamera } from './open-camera';
import { startRecording, type Recording } from './recorder';

/** off; opening (asking for it); on; or off because it could not be opened, and why. */
export type SampleCameraState = { state: 'off' | 'opening' | 'on' } | { state: 'failed'; message: string };

export class SampleCamera {
  #stream: MediaStream | null = null;
  #recording: { classId: string; recording: Recording } | null = null;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly onState: (state: SampleCameraState) => void,
    private readonly onRecording: (classId: string | null) => void,
  ) {
    document.addEventListener('visibilitychange', () => document.hidden && this.stopRecording());
  }

  get on(): boolean {
    return this.#stream !== null;
  }

  async turnOn(): Promise<void> {
    if (this.#stream) return;
    this.onState({ state: 'opening' });
    try {
      this.#stream = await openCamera();
      this.video.srcObject = this.#stream;
      await this.video.play().catch(() => undefined);
      this.onState({ state: 'on' });
    } catch (error) {
      this.onState({ state: 'failed', message: (error as Error).message });
    }
  }

  turnOff(): void {
    this.stopRecording();
    closeCamera(this.#stream);
    this.#stream = null;
    this.video.srcObject = null;
    this.onState({ state: 'off' });
  }

  /**
   * Records frames into class `classId` (`take` stores one frame of the video and reports its own failures) until
   * stopRecording(); a no-op while one records, or before the camera shows a picture.
   */
  startRecording(classId: string, take: (video: HTMLVideoElement) => Promise<void>): void {
    if (this.#recording || !this.#stream || this.video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
    this.#recording = { classId, recording: startRecording(() => take(this.video)) };
    this.onRecording(classId);
  }

  stopRecording(): void {
    if (!this.#recording) return;
    const { recording } = this.#recording;
    this.#recording = null;
    void recording.stop();
    this.onRecording(null);
  }

  /** The class being recorded into, or null. */
  get recordingInto(): string | null {
    return this.#recording?.classId ?? null;
  }
}
