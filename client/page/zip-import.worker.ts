/**
 * The zip reader, a worker: everything an import does with a zip happens here, off the page's main thread. It
 * reads the zip's central directory and plans what to read (dataset-zip.ts, caps checked before anything is
 * unpacked), then unpacks one class's images at a time and turns each into a sample (sample-image.ts: decoded,
 * scaled, encoded as a JPEG) for the page to store. Exposed through comlink; it holds the zip it was opened on.
 */
import * as Comlink from 'comlink';
import type { SkippedFile } from '../../shared/class-folders';
import type { NewSample } from '../cache/sample-store';
import { readZipImage, readZipPlan, type ZipPlan } from './dataset-zip';
import { ZipEntryError } from './zip-entry';
import { sampleFromFile, SampleImageError } from './sample-image';

/** What a zip holds for an import: its classes (by name, with their image count) and what it leaves out. */
export interface ZipContents {
  classes: { name: string; images: number }[];
  skipped: SkippedFile[];
}

/** One class's images as samples, and those that could not become one (with the reason). */
export interface ZipClassSamples {
  samples: NewSample[];
  skipped: SkippedFile[];
}

let opened: { zip: Blob; plan: ZipPlan } | null = null;

const api = {
  /** Reads the zip's plan; throws (ZipLimitError, ZipReadError) before anything is unpacked when it is refused. */
  async open(zip: Blob): Promise<ZipContents> {
    opened = null;
    const plan = await readZipPlan(zip);
    opened = { zip, plan };
    return { classes: plan.classes.map((c) => ({ name: c.name, images: c.files.length })), skipped: plan.skipped };
  },

  /** Class `index`'s images as samples; `progress` hears how many were handled so far. */
  async samples(index: number, progress: (handled: number) => void): Promise<ZipClassSamples> {
    const folder = opened?.plan.classes[index];
    if (!opened || !folder) throw new Error('the zip reader has no zip open (it was restarted)');
    const result: ZipClassSamples = { samples: [], skipped: [] };
    for (const [i, file] of folder.files.entries()) {
      try {
        const bytes = await readZipImage(opened.zip, file.entry);
        result.samples.push(await sampleFromFile(new Blob([bytes as Uint8Array<ArrayBuffer>])));
      } catch (error) {
        if (!(error instanceof ZipEntryError || error instanceof SampleImageError)) throw error;
        result.skipped.push({ file: `${folder.dir}/${file.name}`, reason: error.message });
      }
      void progress(i + 1);
    }
    return Comlink.transfer(result, result.samples.map((s) => s.bytes));
  },
};

export type ZipImportApi = typeof api;

Comlink.expose(api);
