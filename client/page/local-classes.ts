/**
 * The classes the visitor builds in the page, as the page holds them: every edit goes to the sample store first
 * (sample-store.ts) and is then applied here, so what is shown is what a reload brings back. Samples are held as
 * references (id and class): their bytes stay in the store until a thumbnail, a run or an export reads them. It
 * also turns files and camera frames into samples (sample-image.ts), imports zips a class at a time through the
 * zip reader (zip-import.ts: each class stored whole or not at all, and what was kept said when one fails), and
 * exports the classes as a zip. Listeners hear of every change. No DOM beyond the video frame it is handed.
 */
import type { SkippedFile } from '../../shared/class-folders';
import { byCodeUnit } from '../../shared/class-folders';
import {
  addClass,
  addSamples,
  deleteClass,
  deleteSamples,
  importClass,
  moveSample,
  readLocalDataset,
  readSampleImage,
  renameClass,
  classNameProblem,
  LocalDatasetError,
  type LocalSampleRef,
  type NewSample,
} from '../cache/sample-store';
import type { LocalClass } from '../cache/schema';
import { sameClassName } from '../../shared/class-names';
import { sentence } from './text/backend-text';
import { plural } from './text/format';
import { zipDataset } from './dataset-zip';
import { sampleFromFile, sampleFromVideo } from './sample-image';
import { openZip } from './zip-import';

/** What adding files did, for the message shown after it. */
export interface AddReport {
  added: number;
  /** Already in the dataset (this class or another). */
  duplicates: number;
  skipped: SkippedFile[];
}

/** How far an import is: the class being read, and how many of its images are handled. */
export interface ImportProgress {
  className: string;
  handled: number;
  images: number;
}

/** A list in words: “a”, “a” and “b”, “a”, “b” and “c”. */
const inWords = (items: readonly string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** What an import that stopped part way kept: the classes stored whole, and those not begun or not stored. */
function keptFromZip(stored: { name: string; added: number }[], notStored: string[]): string {
  if (stored.length === 0) return 'Nothing from this zip was imported.';
  const kept = inWords(stored.map((c) => `“${c.name}” (${plural(c.added, 'sample')})`));
  const lost = inWords(notStored.map((name) => `“${name}”`));
  return `From this zip, ${kept} ${stored.length === 1 ? 'was' : 'were'} imported; ${lost} ${notStored.length === 1 ? 'was' : 'were'} not.`;
}

export class LocalClasses {
  classes: LocalClass[] = [];
  samples: LocalSampleRef[] = [];
  #listeners = new Set<() => void>();

  /** Reads what this browser holds (classes and sample references, no sample's bytes). */
  async load(): Promise<void> {
    const { classes, samples } = await readLocalDataset();
    this.classes = classes;
    this.samples = samples;
    this.#changed();
  }

  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  samplesOf(classId: string): LocalSampleRef[] {
    return this.samples.filter((s) => s.classId === classId);
  }

  /** Whether two classes or more have samples: enough to train. */
  get trainable(): boolean {
    return new Set(this.samples.map((s) => s.classId)).size >= 2;
  }

  /** A sample's JPEG, read from the store (for its thumbnail). */
  async image(id: string): Promise<Blob> {
    const image = await readSampleImage(id);
    if (!image) throw new Error('This sample is no longer stored (deleted in another tab?).');
    return image;
  }

  async addClass(name: string): Promise<LocalClass> {
    const added = await addClass(name);
    this.classes = [...this.classes, added];
    this.#changed();
    return added;
  }

  /** A name no class has yet: "Class 1", "Class 2", ... */
  nextClassName(): string {
    let n = this.classes.length + 1;
    while (this.classes.some((c) => sameClassName(c.name, `Class ${n}`))) n += 1;
    return `Class ${n}`;
  }

  async renameClass(id: string, name: string): Promise<void> {
    const renamed = await renameClass(id, name);
    this.classes = this.classes.map((c) => (c.id === id ? renamed : c));
    this.#changed();
  }

  async deleteClass(id: string): Promise<void> {
    await deleteClass(id);
    this.classes = this.classes.filter((c) => c.id !== id);
    this.samples = this.samples.filter((s) => s.classId !== id);
    this.#changed();
  }

  async #add(classId: string, samples: NewSample[]): Promise<{ added: number; duplicates: number }> {
    const { added, duplicates } = await addSamples(classId, samples);
    this.samples = [...this.samples, ...added];
    this.#changed();
    return { added: added.length, duplicates: duplicates.length };
  }

  /** Adds photo files to a class; files that are not images are listed with the reason, nothing else is lost. */
  async addFiles(classId: string, files: readonly { file: Blob; name: string }[]): Promise<AddReport> {
    const samples: NewSample[] = [];
    const skipped: AddReport['skipped'] = [];
    for (const { file, name } of files) {
      try {
        samples.push(await sampleFromFile(file));
      } catch (error) {
        skipped.push({ file: name, reason: (error as Error).message });
      }
    }
    return { ...(await this.#add(classId, samples)), skipped };
  }

  /** Adds the camera's current frame to a class; false when it was a copy of a sample already there. */
  async addFrame(classId: string, video: HTMLVideoElement): Promise<boolean> {
    return (await this.#add(classId, [await sampleFromVideo(video)])).added === 1;
  }

  async deleteSample(id: string): Promise<void> {
    await deleteSamples([id]);
    this.samples = this.samples.filter((s) => s.id !== id);
    this.#changed();
  }

  async moveSample(id: string, classId: string): Promise<void> {
    await moveSample(id, classId);
    this.samples = this.samples.map((s) => (s.id === id ? { ...s, classId } : s));
    this.#changed();
  }

  /** Moves a sample to the class of that name (the gallery knows classes by name). */
  moveSampleToClassNamed(id: string, name: string): Promise<void> {
    const target = this.classes.find((c) => c.name === name);
    if (!target) return Promise.reject(new Error(`There is no class named “${name}” any more.`));
    return this.moveSample(id, target.id);
  }

  /** Every class with its samples, as a zip of class folders (one file per sample, named by its hash). */
  async exportZip(): Promise<Blob> {
    const classes = [];
    for (const c of this.classes) {
      const files = [];
      for (const s of this.samplesOf(c.id)) files.push({ name: `${s.id.slice(0, 16)}.jpg`, bytes: new Uint8Array(await (await this.image(s.id)).arrayBuffer()) });
      classes.push({ name: c.name, files });
    }
    return new Blob([zipDataset(classes) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
  }

  /**
   * Adds a zip's class folders, read in the zip reader (a worker): a folder whose name a class has already joins
   * that class, others become classes, each class stored whole or not at all. Throws before changing anything when
   * the zip is refused (a cap, not a zip) or a folder's name cannot name a class; an import that fails part way
   * throws with what it kept.
   */
  async importZip(file: Blob, onProgress: (progress: ImportProgress) => void = () => {}): Promise<AddReport & { classes: number }> {
    const zip = await openZip(file).catch((error: Error) => {
      throw new LocalDatasetError(`Nothing was imported: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`);
    });
    try {
      const { classes, skipped } = zip.contents;
      const names = this.classes.map((c) => c.name);
      for (const { name } of classes.filter((c) => !names.some((n) => sameClassName(n, c.name)))) {
        const problem = classNameProblem(name, names);
        if (problem) throw new LocalDatasetError(`Nothing was imported: the zip's folder “${name}” cannot name a class. ${problem}`);
        names.push(name);
      }
      const report: AddReport & { classes: number } = { added: 0, duplicates: 0, skipped: [...skipped], classes: classes.length };
      const stored: { name: string; added: number }[] = [];
      for (const [index, { name, images }] of classes.entries()) {
        try {
          const read = await zip.samples(index, (handled) => onProgress({ className: name, handled, images }));
          report.skipped.push(...read.skipped);
          const imported = await importClass(name, read.samples);
          this.#imported(imported.class, imported.created, imported.added);
          report.added += imported.added.length;
          report.duplicates += imported.duplicates.length;
          stored.push({ name, added: imported.added.length });
        } catch (error) {
          const notStored = classes.slice(index).map((c) => c.name);
          throw new Error(`${sentence((error as Error).message)}. ${keptFromZip(stored, notStored)}`, { cause: error });
        }
      }
      report.skipped.sort((a, b) => byCodeUnit(a.file, b.file));
      return report;
    } finally {
      zip.close();
    }
  }

  /** Applies one imported class: a new class joins the list, the samples theirs. */
  #imported(target: LocalClass | null, created: boolean, added: LocalSampleRef[]): void {
    if (!target) return;
    if (created) this.classes = [...this.classes, target];
    this.samples = [...this.samples, ...added];
    this.#changed();
  }
}
