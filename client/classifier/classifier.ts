/**
 * What "classify a photo" and Live ask of a trained classifier, whichever engine answers: the trainer worker's
 * TF.js model (client/page/trainer-client.ts), or the LiteRT.js classifier worker running the classifier's .tflite
 * file (./litert-classifier.ts).
 */
import type { Classification, FrameClassification } from '../../shared/trainer-messages';

export interface Classifier {
  /** The top classes of any image (decoded in a worker, never on the page), most likely first. */
  classify(image: Blob): Promise<Classification[]>;
  /**
   * Every class's probability for one camera frame; takes the frame over (it is transferred and closed). Null: the
   * frame was lost with an engine that failed on it, and the next one goes to the engine that answers now.
   */
  classifyFrame(frame: ImageBitmap): Promise<FrameClassification | null>;
}
