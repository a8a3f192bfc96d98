/**
 * Steps 1 and 3, wired: the server's datasets and a dropped folder (the picker) become the session's dataset, and
 * its first images per class show in the sample grid. It also hands out the images' thumbnails (the results'
 * gallery shows them), one object URL per image, kept while the chosen dataset still has that image.
 */
import type { DatasetRecord } from '../../shared/records';
import { nextTask } from '../engine/next-task';
import type { DatasetChoice } from './dataset-source';
import type { Session } from './session';
import type { Banner } from './views/banner';
import { mountDatasetPicker } from './views/dataset-picker';
import { mountSampleGrid } from './views/sample-grid';

const SAMPLES_PER_CLASS = 4;

export interface DatasetController {
  /** Makes a dataset the session's choice and shows it (`id`: the picker's selection, null for none). */
  chooseData(load: () => Promise<DatasetChoice>, id: string | null): Promise<void>;
  /** The server's datasets, once the catalog is in. */
  showCatalog(datasets: DatasetRecord[]): void;
  setDisabled(disabled: boolean): void;
  /** An object URL of the image's bytes (for the results' gallery). */
  thumbnail(imageId: string): Promise<string>;
}

export interface DatasetDependencies {
  banner: Banner;
  /** Runs a choice as every choice of data or model runs (messages cleared, what depends on it refreshed). */
  choose(action: () => Promise<void>): Promise<void>;
  /** The session's dataset changed (Start may be possible now; your classes show whether they are the choice). */
  chosen(): void;
}

/**
 * One object URL per task: a gallery page's or the sample grid's images arrive together (from one shard), and
 * two dozen URLs made at once (each a round trip to the browser process) are a long task on a busy machine.
 */
async function objectUrlInOwnTask(blob: Blob): Promise<string> {
  await nextTask();
  return URL.createObjectURL(blob);
}

export function connectDatasets(el: { picker: HTMLElement; samples: HTMLElement }, session: Session, deps: DatasetDependencies): DatasetController {
  const picker = mountDatasetPicker(el.picker, {
    onSelectDataset: (id) => void chooseData(() => session.chooseDataset(id), id),
    onDropFolder: (files) => void chooseData(() => session.chooseFolder(files), null),
  });
  const sampleGrid = mountSampleGrid(el.samples);
  let datasets: DatasetRecord[] = [];
  let sampleUrls: string[] = [];
  const thumbnails = new Map<string, Promise<string>>();

  function chooseData(load: () => Promise<DatasetChoice>, id: string | null): Promise<void> {
    return deps.choose(async () => {
      const dataset = await load();
      picker.update(datasets, id);
      deps.chosen();
      if (dataset.skipped.length > 0) {
        deps.banner.showInfo(`${dataset.skipped.length} file(s) skipped: ${dataset.skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join(', ')}`);
      }
      const samples = dataset.classes.flatMap((name) => dataset.images.filter((i) => i.class === name).slice(0, SAMPLES_PER_CLASS));
      // A sample whose bytes cannot be had is left out here; the run reports it with the reason.
      const fetched = await Promise.allSettled(samples.map(async (i) => ({ url: await objectUrlInOwnTask(await i.bytes()), label: i.class })));
      const shown = fetched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      sampleUrls.forEach((url) => URL.revokeObjectURL(url));
      sampleUrls = shown.map((s) => s.url);
      sampleGrid.update(shown);
      // An image id is its content's hash: a thumbnail of an image the new choice still has stays good.
      const kept = new Set(dataset.images.map((i) => i.imageId));
      for (const [imageId, url] of thumbnails) {
        if (kept.has(imageId)) continue;
        void url.then(URL.revokeObjectURL, () => {});
        thumbnails.delete(imageId);
      }
    });
  }

  return {
    chooseData,
    showCatalog(next) {
      datasets = next;
      picker.update(datasets, null);
    },
    setDisabled: (disabled) => picker.setDisabled(disabled),
    thumbnail(imageId) {
      let url = thumbnails.get(imageId);
      if (!url) {
        const image = session.dataset?.images.find((i) => i.imageId === imageId);
        url = image ? image.bytes().then(objectUrlInOwnTask) : Promise.reject(new Error('image not in this dataset'));
        thumbnails.set(imageId, url);
      }
      return url;
    },
  };
}
