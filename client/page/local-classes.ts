/**
 * The classes the visitor builds in the page, as the page holds them: every edit goes to the sample store first
 * (sample-store.ts) and is then applied here, so what is shown is what a reload brings back. It also turns
 * files, camera frames and zips into samples (sample-image.ts, dataset-zip.ts) and the classes into a zip.
 * Listeners hear of every change. No DOM beyond the video frame it is handed.
 */
import {
  addClass,
  addSamples,
  deleteClass,
  deleteSamples,
  moveSample,
  readLocalDataset,
  renameClass,
  classNameProblem,
  LocalDatasetError,
  type NewSample,
} from '../cache/sample-store';
import type { LocalClass, LocalSample } from '../cache/schema';
import { unzipDataset, zipDataset } from './dataset-zip';
import { sampleFromFile, sampleFromVideo } from './sample-image';

/** What adding files did, for the message shown after it. */
export interface AddReport {
  added: number;
  /** Already in the dataset (this class or another). */
  duplicates: number;
  skipped: { file: string; reason: string }[];
}

export class LocalClasses {
  classes: LocalClass[] = [];
  samples: LocalSample[] = [];
  #urls = new Map<string, string>();
  #listeners = new Set<() => void>();

  /** Reads what this browser holds. */
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

  samplesOf(classId: string): LocalSample[] {
    return this.samples.filter((s) => s.classId === classId);
  }

  /** Whether two classes or more have samples: enough to train. */
  get trainable(): boolean {
    return new Set(this.samples.map((s) => s.classId)).size >= 2;
  }

  /** An object URL of a sample's JPEG, made once and revoked when the sample goes. */
  url(sample: LocalSample): string {
    let url = this.#urls.get(sample.id);
    if (!url) {
      url = URL.createObjectURL(new Blob([sample.bytes], { type: sample.type }));
      this.#urls.set(sample.id, url);
    }
    return url;
  }

  #forget(ids: readonly string[]): void {
    for (const id of ids) {
      const url = this.#urls.get(id);
      if (url) URL.revokeObjectURL(url);
      this.#urls.delete(id);
    }
  }

  async addClass(name: string): Promise<LocalClass> {
    const added = await addClass(name);
    this.classes = [...this.classes, added];
    this.#changed();
    return added;
  }

  /** A name no class has yet: "Class 1", "Class 2", ... */
  nextClassName(): string {
    const taken = new Set(this.classes.map((c) => c.name.toLowerCase()));
    let n = this.classes.length + 1;
    while (taken.has(`class ${n}`)) n += 1;
    return `Class ${n}`;
  }

  async renameClass(id: string, name: string): Promise<void> {
    const renamed = await renameClass(id, name);
    this.classes = this.classes.map((c) => (c.id === id ? renamed : c));
    this.#changed();
  }

  async deleteClass(id: string): Promise<void> {
    await deleteClass(id);
    this.#forget(this.samplesOf(id).map((s) => s.id));
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
    this.#forget([id]);
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
  exportZip(): Blob {
    const zip = zipDataset(
      this.classes.map((c) => ({
        name: c.name,
        files: this.samplesOf(c.id).map((s) => ({ name: `${s.id.slice(0, 16)}.jpg`, bytes: new Uint8Array(s.bytes) })),
      })),
    );
    return new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
  }

  /**
   * Adds a zip's class folders: a folder whose name a class has already joins that class, others become classes.
   * Throws before changing anything when the zip cannot be read or a folder's name cannot name a class.
   */
  async importZip(file: Blob): Promise<AddReport & { classes: number }> {
    const unzipped = unzipDataset(new Uint8Array(await file.arrayBuffer()));
    const report: AddReport & { classes: number } = { added: 0, duplicates: 0, skipped: [...unzipped.skipped], classes: unzipped.classes.length };
    const prepared = [];
    for (const folder of unzipped.classes) {
      const samples: NewSample[] = [];
      for (const { name, bytes } of folder.files) {
        try {
          samples.push(await sampleFromFile(new Blob([bytes as Uint8Array<ArrayBuffer>])));
        } catch (error) {
          report.skipped.push({ file: `${folder.name}/${name}`, reason: (error as Error).message });
        }
      }
      prepared.push({ name: folder.name, samples });
    }
    const classNamed = (name: string) => this.classes.find((c) => c.name.toLowerCase() === name.toLowerCase());
    const names = this.classes.map((c) => c.name);
    for (const { name } of prepared.filter((p) => !classNamed(p.name))) {
      const problem = classNameProblem(name, names);
      if (problem) throw new LocalDatasetError(`Nothing was imported: the zip's folder “${name}” cannot name a class. ${problem}`);
      names.push(name);
    }
    for (const { name, samples } of prepared) {
      const target = classNamed(name) ?? (await this.addClass(name));
      const { added, duplicates } = await this.#add(target.id, samples);
      report.added += added;
      report.duplicates += duplicates;
    }
    return report;
  }
}
