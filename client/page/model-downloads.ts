/**
 * The base models' files, downloaded once per session (downloadModel checks their hash) and handed to every
 * worker that needs them: the trainer and each farm worker get copies, none downloads them itself.
 */
import type { ModelArtifactsData } from '../../shared/farm';
import type { ModelRecord } from '../../shared/records';
import { downloadModel } from '../api/storage-client';

export class ModelDownloads {
  #downloads = new Map<string, Promise<ModelArtifactsData>>();

  /** The model's files; a download that failed is tried again by the next call. */
  get(record: ModelRecord): Promise<ModelArtifactsData> {
    let download = this.#downloads.get(record.id);
    if (!download) {
      download = downloadModel(record);
      download.catch(() => this.#downloads.delete(record.id));
      this.#downloads.set(record.id, download);
    }
    return download;
  }
}
