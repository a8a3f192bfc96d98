/**
 * TFLite model metadata (tensorflow/tflite-support, tensorflow_lite_support/metadata/metadata_schema.fbs, file
 * identifier "M001"): what the input image is (RGB, its size, its normalisation) and that the output is one
 * probability per line of labels.txt (an AssociatedFile of type TENSOR_AXIS_LABELS). The bytes go into the model's
 * buffer named TFLITE_METADATA, and labels.txt itself into a zip appended to the .tflite file, where
 * tflite-support's MetadataExtractor and the Task Library look for associated files. No DOM, no tfjs.
 */
import * as flatbuffers from 'flatbuffers';
import { zipSync } from 'fflate';
import { lineBreakIn } from '../../shared/class-names';
import { float32Vector, offsetVector } from './schema';

export const METADATA_BUFFER_NAME = 'TFLITE_METADATA';
export const LABELS_FILE = 'labels.txt';
const FILE_IDENTIFIER = 'M001';
const MIN_PARSER_VERSION = '1.0.0';

/** enum AssociatedFileType : byte */
const TENSOR_AXIS_LABELS = 2;
/** enum ColorSpaceType : byte */
const RGB = 1;
/** union ContentProperties: FeatureProperties = 1, ImageProperties = 2. */
const FEATURE_PROPERTIES = 1;
const IMAGE_PROPERTIES = 2;
/** union ProcessUnitOptions: NormalizationOptions = 1. */
const NORMALIZATION_OPTIONS = 1;

export interface MetadataInput {
  name: string;
  description: string;
  inputSize: number;
  /** (x - mean) / std per channel, applied to pixels 0..255 before the model's own input quantization. */
  normalization: { mean: number; std: number };
  inputDescription: string;
  outputDescription: string;
}

/** table Content { content_properties (type slot 0, value slot 1), range } */
function content(b: flatbuffers.Builder, type: number, properties: flatbuffers.Offset): flatbuffers.Offset {
  b.startObject(3);
  b.addFieldInt8(0, type, 0);
  b.addFieldOffset(1, properties, 0);
  return b.endObject();
}

/** table TensorMetadata { name, description, dimension_names, content, process_units, stats, associated_files } */
function tensorMetadata(
  b: flatbuffers.Builder,
  t: { name: string; description: string; content: flatbuffers.Offset; processUnits?: flatbuffers.Offset; associatedFiles?: flatbuffers.Offset },
): flatbuffers.Offset {
  const name = b.createString(t.name);
  const description = b.createString(t.description);
  b.startObject(7);
  b.addFieldOffset(0, name, 0);
  b.addFieldOffset(1, description, 0);
  b.addFieldOffset(3, t.content, 0);
  if (t.processUnits) b.addFieldOffset(4, t.processUnits, 0);
  if (t.associatedFiles) b.addFieldOffset(6, t.associatedFiles, 0);
  return b.endObject();
}

/** The ModelMetadata flatbuffer for a classifier of `input.inputSize` images whose output axis is labelled by labels.txt. */
export function buildMetadata(input: MetadataInput): Uint8Array {
  const b = new flatbuffers.Builder(1024);

  // Input: ImageProperties { color_space, default_size: ImageSize { width, height } } + NormalizationOptions.
  b.startObject(2);
  b.addFieldInt32(0, input.inputSize, 0);
  b.addFieldInt32(1, input.inputSize, 0);
  const imageSize = b.endObject();
  b.startObject(2);
  b.addFieldInt8(0, RGB, 0);
  b.addFieldOffset(1, imageSize, 0);
  const imageProperties = b.endObject();
  const imageContent = content(b, IMAGE_PROPERTIES, imageProperties);
  const mean = float32Vector(b, [input.normalization.mean]);
  const std = float32Vector(b, [input.normalization.std]);
  b.startObject(2);
  b.addFieldOffset(0, mean, 0);
  b.addFieldOffset(1, std, 0);
  const normalization = b.endObject();
  b.startObject(2);
  b.addFieldInt8(0, NORMALIZATION_OPTIONS, 0);
  b.addFieldOffset(1, normalization, 0);
  const processUnit = b.endObject();
  const inputMetadata = tensorMetadata(b, {
    name: 'image',
    description: input.inputDescription,
    content: imageContent,
    processUnits: offsetVector(b, [processUnit]),
  });

  // Output: FeatureProperties {} + labels.txt as TENSOR_AXIS_LABELS.
  b.startObject(0);
  const featureProperties = b.endObject();
  const outputContent = content(b, FEATURE_PROPERTIES, featureProperties);
  const labelsName = b.createString(LABELS_FILE);
  const labelsDescription = b.createString('Class names, one a line, in the order of the output probabilities.');
  b.startObject(4);
  b.addFieldOffset(0, labelsName, 0);
  b.addFieldOffset(1, labelsDescription, 0);
  b.addFieldInt8(2, TENSOR_AXIS_LABELS, 0);
  const labelsFile = b.endObject();
  const outputMetadata = tensorMetadata(b, {
    name: 'probability',
    description: input.outputDescription,
    content: outputContent,
    associatedFiles: offsetVector(b, [labelsFile]),
  });

  // SubGraphMetadata { name, description, input_tensor_metadata, output_tensor_metadata, ... }
  const inputs = offsetVector(b, [inputMetadata]);
  const outputs = offsetVector(b, [outputMetadata]);
  b.startObject(7);
  b.addFieldOffset(2, inputs, 0);
  b.addFieldOffset(3, outputs, 0);
  const subgraph = b.endObject();

  // ModelMetadata { name, description, version, subgraph_metadata, author, license, associated_files, min_parser_version }
  const name = b.createString(input.name);
  const description = b.createString(input.description);
  const subgraphs = offsetVector(b, [subgraph]);
  const author = b.createString('Graft (trained in the browser)');
  const minParser = b.createString(MIN_PARSER_VERSION);
  b.startObject(8);
  b.addFieldOffset(0, name, 0);
  b.addFieldOffset(1, description, 0);
  b.addFieldOffset(3, subgraphs, 0);
  b.addFieldOffset(4, author, 0);
  b.addFieldOffset(7, minParser, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);
  return b.asUint8Array();
}

/**
 * labels.txt: one class name a line, in output order, UTF-8. A name holding a character some reader ends a line
 * at (Kotlin's readLines at \r, Python's splitlines at U+2028 or U+0085) is refused: every later label would be
 * off by one. The page and the seed refuse such names already; this guards names stored before they did.
 */
export function labelsText(labels: readonly string[]): string {
  for (const label of labels) {
    const lineBreak = lineBreakIn(label);
    if (lineBreak) throw new Error(`The class “${label}” cannot be a line of labels.txt: it contains ${lineBreak}. Rename it and export again.`);
  }
  return `${labels.join('\n')}\n`;
}

/**
 * The model bytes with a zip of labels.txt appended, as tflite-support's MetadataPopulator writes it. The zip's
 * offsets are moved by the model's length, so they count from the start of the file as zip readers expect.
 */
export function appendLabelsZip(model: Uint8Array, labels: readonly string[]): Uint8Array {
  const zip = zipSync({ [LABELS_FILE]: [new TextEncoder().encode(labelsText(labels)), { level: 0 }] });
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const shift = model.byteLength;
  // End of central directory (signature 0x06054b50, at the end: no zip comment): offset of the directory at 16.
  const end = zip.byteLength - 22;
  if (view.getUint32(end, true) !== 0x06054b50) throw new Error('unexpected zip layout');
  const directory = view.getUint32(end + 16, true);
  const entries = view.getUint16(end + 10, true);
  let at = directory;
  for (let i = 0; i < entries; i++) {
    // Central directory header (0x02014b50): local header offset at 42; then name, extra and comment.
    if (view.getUint32(at, true) !== 0x02014b50) throw new Error('unexpected zip layout');
    view.setUint32(at + 42, view.getUint32(at + 42, true) + shift, true);
    at += 46 + view.getUint16(at + 28, true) + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  view.setUint32(end + 16, directory + shift, true);
  const file = new Uint8Array(model.byteLength + zip.byteLength);
  file.set(model);
  file.set(zip, model.byteLength);
  return file;
}
