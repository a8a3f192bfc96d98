/**
 * Code that runs an exported .tflite file, written from the file's own signature (input shape and type, the
 * uint8 input's quantization, the preprocessing of a float input) so it always matches the file: Kotlin for an
 * Android app (LiteRT / TFLite Interpreter) and Python (ai_edge_litert, or tflite_runtime). And the README that
 * travels in the download's zip. Pure strings; no DOM, no tfjs.
 */
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';

export interface TfliteSnippetInput {
  kind: TfliteKind;
  signature: TfliteSignature;
  preprocessing: { scale: number; offset: number };
  labels: readonly string[];
}

/** A float literal as Kotlin and Python both read it. */
function float(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** Kotlin: bitmap -> input ByteBuffer of the file's type and size, run, top-1 with its label from labels.txt. */
export function kotlinSnippet({ signature, preprocessing }: TfliteSnippetInput): string {
  const [, height, width, channels] = signature.input.shape;
  const classes = signature.output.shape[1];
  const uint8 = signature.input.type === 'uint8';
  const bytesPerValue = uint8 ? 1 : 4;
  const put = uint8
    ? [
        `      // uint8 pixels as they are: the model's input quantization does the scaling.`,
        `      input.put(((p shr 16) and 0xFF).toByte())`,
        `      input.put(((p shr 8) and 0xFF).toByte())`,
        `      input.put((p and 0xFF).toByte())`,
      ]
    : [
        `      // float32 pixels scaled as the model was trained: x * ${preprocessing.scale} + ${preprocessing.offset}`,
        `      input.putFloat(((p shr 16) and 0xFF) * ${float(preprocessing.scale)}f + ${float(preprocessing.offset)}f)`,
        `      input.putFloat(((p shr 8) and 0xFF) * ${float(preprocessing.scale)}f + ${float(preprocessing.offset)}f)`,
        `      input.putFloat((p and 0xFF) * ${float(preprocessing.scale)}f + ${float(preprocessing.offset)}f)`,
      ];
  return [
    `// build.gradle: implementation("com.google.ai.edge.litert:litert:1.0.1")`,
    `// Put model.tflite and labels.txt in app/src/main/assets (and keep .tflite files uncompressed:`,
    `// android { androidResources { noCompress += "tflite" } }).`,
    `import android.content.Context`,
    `import android.graphics.Bitmap`,
    `import org.tensorflow.lite.Interpreter`,
    `import java.io.FileInputStream`,
    `import java.nio.ByteBuffer`,
    `import java.nio.ByteOrder`,
    `import java.nio.channels.FileChannel`,
    ``,
    `class Classifier(context: Context) {`,
    `  // labels.txt is UTF-8 (class names in any script), one name a line.`,
    `  private val labels = context.assets.open("labels.txt").bufferedReader(Charsets.UTF_8).readLines().filter { it.isNotBlank() }`,
    `  private val interpreter = Interpreter(context.assets.openFd("model.tflite").use { fd ->`,
    `    FileInputStream(fd.fileDescriptor).channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)`,
    `  })`,
    ``,
    `  init {`,
    `    // The output has one probability per line of labels.txt (${classes} here).`,
    `    check(interpreter.getOutputTensor(0).shape()[1] == labels.size) { "labels.txt does not match the model" }`,
    `  }`,
    ``,
    `  fun classify(bitmap: Bitmap): Pair<String, Float> {`,
    `    val scaled = Bitmap.createScaledBitmap(bitmap, ${width}, ${height}, true)`,
    `    val input = ByteBuffer.allocateDirect(${height} * ${width} * ${channels} * ${bytesPerValue}).order(ByteOrder.nativeOrder())`,
    `    val pixels = IntArray(${width} * ${height})`,
    `    scaled.getPixels(pixels, 0, ${width}, 0, 0, ${width}, ${height})`,
    `    for (p in pixels) {`,
    ...put,
    `    }`,
    `    input.rewind()`,
    `    // float32 probabilities, sized from labels.txt: [1][${classes}].`,
    `    val output = Array(1) { FloatArray(labels.size) }`,
    `    interpreter.run(input, output)`,
    `    val best = output[0].indices.maxBy { output[0][it] }`,
    `    return labels[best] to output[0][best]`,
    `  }`,
    `}`,
  ].join('\n');
}

/** Python: ai_edge_litert (or tflite_runtime) Interpreter on one image file. */
export function pythonSnippet({ signature, preprocessing }: TfliteSnippetInput): string {
  const [, height, width] = signature.input.shape;
  const uint8 = signature.input.type === 'uint8';
  return [
    `# pip install ai-edge-litert pillow numpy   (or: pip install tflite-runtime)`,
    `import numpy as np`,
    `from PIL import Image`,
    `from ai_edge_litert.interpreter import Interpreter  # or: from tflite_runtime.interpreter import Interpreter`,
    ``,
    `# labels.txt is UTF-8 whatever the system's locale, one name a line ("\\n" only: splitlines() also splits at U+2028).`,
    `labels = [line for line in open("labels.txt", encoding="utf-8").read().split("\\n") if line]`,
    `interpreter = Interpreter(model_path="model.tflite")`,
    `interpreter.allocate_tensors()`,
    `input_index = interpreter.get_input_details()[0]["index"]`,
    `output_index = interpreter.get_output_details()[0]["index"]`,
    ``,
    `image = Image.open("photo.jpg").convert("RGB").resize((${width}, ${height}), Image.BILINEAR)`,
    uint8
      ? `x = np.asarray(image, dtype=np.uint8)[None]  # uint8 pixels as they are: the model does the scaling`
      : `x = (np.asarray(image, dtype=np.float32) * ${float(preprocessing.scale)} + ${float(preprocessing.offset)})[None]  # float32, scaled as in training`,
    `interpreter.set_tensor(input_index, x)`,
    `interpreter.invoke()`,
    `probabilities = interpreter.get_tensor(output_index)[0]  # float32, one per line of labels.txt`,
    `best = int(np.argmax(probabilities))`,
    `print(labels[best], float(probabilities[best]))`,
  ].join('\n');
}

const KIND_NOTES: Record<TfliteKind, string> = {
  float32: 'float32 weights: the exact trained model.',
  float16: 'float16 weights (DEQUANTIZE ops turn them back to float32 when the model loads): half the size.',
  int8: 'full-integer int8 (per-channel weights, int8 activations calibrated on your training images, int32 biases).',
};

/** The README.md of the download: what goes in, what comes out, and the code for both. */
export function tfliteReadme(input: TfliteSnippetInput): string {
  const { signature, preprocessing, labels, kind } = input;
  const [, height, width, channels] = signature.input.shape;
  const q = signature.input.quantization;
  const inputLine =
    signature.input.type === 'uint8'
      ? `uint8 [1, ${height}, ${width}, ${channels}]: RGB pixels 0..255 as they are. The model's input quantization ` +
        `(scale ${q!.scale}, zero point ${q!.zeroPoint}) maps a byte q to (q - ${q!.zeroPoint}) * ${q!.scale}, the ` +
        `x * ${preprocessing.scale} + ${preprocessing.offset} the model was trained on (to half a step of 1/255).`
      : `float32 [1, ${height}, ${width}, ${channels}]: RGB pixels x (0..255) scaled as x * ${preprocessing.scale} + ${preprocessing.offset}.`;
  return [
    `# Graft image classifier (${kind} TFLite)`,
    ``,
    `- model.tflite: ${KIND_NOTES[kind]} Checked in LiteRT.js before download.`,
    `- labels.txt: the ${labels.length} class names, one a line, in output order (also inside model.tflite as TFLite metadata).`,
    ``,
    `Input: ${inputLine} Resize the whole image to ${width}x${height} (squash, do not crop), as in training.`,
    ``,
    `Output: float32 [1, ${signature.output.shape[1]}], the probability of each class (softmax), in the order of labels.txt.`,
    ``,
    `## Android (Kotlin, LiteRT / TFLite Interpreter)`,
    ``,
    '```kotlin',
    kotlinSnippet(input),
    '```',
    ``,
    `## Python`,
    ``,
    '```python',
    pythonSnippet(input),
    '```',
    ``,
  ].join('\n');
}
