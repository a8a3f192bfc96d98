/**
 * What the classify-only page does with a publication, apart from drawing it: read its id from the address,
 * fetch its record, fetch its model files (each refused unless it hashes to the record's sha256; a file fetched
 * once is kept for the visit, and the browser's cache keeps it for later visits: the API serves it immutable),
 * start the LiteRT.js classifier on the file the record runs, and build the Android zip of a file as the
 * trainer's export does. No tfjs, no training code.
 */
import type { ClassifierReport } from '../../shared/classifier';
import { PUBLICATION_ID, publicationPath, type PublicationRecord, type PublishedModelFile } from '../../shared/publication';
import type { TfliteKind } from '../../shared/trainer-messages';
import { runnableModel, type PublicationsApi } from '../api/publications';
import type { LiteRtClassifier } from '../classifier/litert-classifier';
import { tfliteZip } from '../tflite/package';

/** The publication id of a classify page's path (`/m/<id>`, a trailing slash allowed), or null. */
export function publicationIdOf(pathname: string): string | null {
  const match = /^\/m\/([^/]+)\/?$/.exec(pathname);
  const id = match ? decodeURIComponent(match[1]) : '';
  return PUBLICATION_ID.test(id) ? id : null;
}

/** The <iframe> that embeds the classify page of `record` (served from `origin`) in another site. */
export function embedSnippet(origin: string, record: PublicationRecord): string {
  const title = `${record.name}: an image classifier`.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<iframe src="${origin}${publicationPath(record.id)}" title="${title}" width="420" height="760" allow="camera" style="border: 0; max-width: 100%"></iframe>`;
}

/** The model files of a publication, most useful first for Android (int8, the smallest, then float32, float16). */
export function modelFiles(record: PublicationRecord): PublishedModelFile[] {
  const order: TfliteKind[] = ['int8', 'float32', 'float16'];
  return record.files
    .filter((file): file is PublishedModelFile => file.role === 'model')
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
}

export class Publication {
  /** Each model file's checked bytes, once fetched. */
  readonly #files = new Map<string, Promise<Uint8Array>>();

  constructor(
    private readonly api: PublicationsApi,
    readonly record: PublicationRecord,
  ) {}

  /** The bytes of a model file, hash-checked (a PublicationError that says so when they are not the record's). */
  file(entry: PublishedModelFile): Promise<Uint8Array> {
    let bytes = this.#files.get(entry.name);
    if (!bytes) {
      bytes = this.api.file(this.record, entry.name);
      // A failed fetch may be tried again.
      bytes.catch(() => this.#files.delete(entry.name));
      this.#files.set(entry.name, bytes);
    }
    return bytes;
  }

  /** Starts `classifier` on the file the record runs. */
  async startClassifier(classifier: LiteRtClassifier): Promise<ClassifierReport> {
    const { card } = this.record;
    const model = runnableModel(this.record);
    return classifier.start({
      file: await this.file(model),
      kind: model.kind,
      classes: card.classes,
      inputType: model.signature.input.type,
      preprocessing: card.preprocessing,
    });
  }

  /** The Android zip of the `kind` file: model.tflite, labels.txt and the README with code for its signature. */
  async androidZip(kind: TfliteKind): Promise<Uint8Array> {
    const entry = modelFiles(this.record).find((file) => file.kind === kind);
    if (!entry) throw new Error(`this publication has no ${kind} file`);
    const { card } = this.record;
    return tfliteZip(await this.file(entry), { kind, signature: entry.signature, preprocessing: card.preprocessing, labels: card.classes });
  }
}
