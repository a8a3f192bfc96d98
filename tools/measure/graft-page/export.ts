/** The measure session's trained classifier out of the page: the float32 TF.js model and the TFLite files. */
import type { Page } from 'playwright-core';
import type { TfliteKind, TfliteSignature } from '../../../shared/trainer-messages';
import type { MeasureWindow } from './measure-window';

/** The trained classifier as classifier.exportModel('float32') gives it (model.json text and weights.bin bytes). */
export async function exportFloat32(page: Page): Promise<{ modelJson: string; weightsBin: ArrayBuffer }> {
  const { modelJson, weightsBase64 } = await page.evaluate(async () => {
    const { measure } = window as unknown as MeasureWindow;
    const { modelJson, weightsBin } = await measure.classifier.exportModel('float32');
    return { modelJson, weightsBase64: await measure.toBase64(weightsBin) };
  });
  const bytes = Buffer.from(weightsBase64, 'base64');
  return { modelJson, weightsBin: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

/** The page's TFLite export of `kind` (built and checked in the page); the zip's bytes when the check passed. */
export async function exportTflite(
  page: Page,
  kind: TfliteKind,
): Promise<{
  zip: Uint8Array | null;
  /** model.tflite and its input and output, as a publication holds them. */
  file: Uint8Array;
  signature: TfliteSignature;
  failure: string | null;
  fileBytes: number;
  msPerImage: number | null;
  tfjsMsPerImage: number;
}> {
  const { zipBase64, fileBase64, ...rest } = await page.evaluate(async (kind) => {
    const { measure } = window as unknown as MeasureWindow;
    const result = await measure.classifier.exportTflite(kind);
    return {
      zipBase64: result.zip ? await measure.toBase64(result.zip as Uint8Array<ArrayBuffer>) : null,
      fileBase64: await measure.toBase64(result.file as Uint8Array<ArrayBuffer>),
      signature: result.signature,
      failure: result.failure,
      fileBytes: result.fileBytes,
      msPerImage: result.check?.msPerImage ?? null,
      tfjsMsPerImage: result.tfjsMsPerImage,
    };
  }, kind);
  const bytesOf = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));
  return { zip: zipBase64 === null ? null : bytesOf(zipBase64), file: bytesOf(fileBase64), ...rest };
}
