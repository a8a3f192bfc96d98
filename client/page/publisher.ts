/**
 * Publishing from the trainer's page: asks the server who may publish (its policy), gathers the publication of the
 * classifier in use (publication-input.ts), checks it fits the server's limit before anything is sent, uploads it
 * in one request, and keeps what the visitor needs to take it down again (publication-store.ts). It owns the admin
 * token the visitor entered (sessionStorage: this tab only) and the checked TFLite files it built, so a publish
 * that the server refused (a limit, a wrong token) is tried again without building them again. Errors come back in
 * words (publishErrorText). `window.graft.publisher` is the page's.
 */
import { PublicationError, publicationsApi, type PublicationsApi } from '../api/publications';
import { forgetPublication, listPublications, savePublication } from '../cache/publication-store';
import type { OwnPublication } from '../cache/schema';
import { MAX_ADMIN_PUBLICATION_BYTES, type PublishPolicy } from '../../shared/publication';
import type { TfliteKind } from '../../shared/trainer-messages';
import type { CheckedTflite } from '../tflite/verdict';
import { fileBytesOf, gatherPublication, type GatherStep, type PublicationRequest, type PublicationSource } from './publication-input';
import { formatLimit } from './text/format';

/** sessionStorage key of the admin token: entered once, forgotten when the tab closes. */
export const ADMIN_TOKEN_KEY = 'graft.adminToken';
/** Room kept under the server's limit for the manifest and the multipart framing. */
const FRAMING_BYTES = 64 * 1024;

export interface PublishAttempt extends PublicationRequest {
  /** The admin token typed in the page, if any (it is kept for this tab once the server accepted it). */
  adminToken?: string | null;
}

export interface Published {
  id: string;
  /** The classify page's full address: <origin>/m/<id>. */
  url: string;
  /** Shown once: only its sha256 stays on the server. */
  deleteKey: string;
  expiresAt: string | null;
  /** Bytes of its files, as the server counted them. */
  bytes: number;
  /** The kind of file the classify page runs. */
  runs: TfliteKind;
  /** Requests this publish made to the publications API (the policy, if not read before, and the upload). */
  requests: number;
}

export class Publisher {
  readonly #source: PublicationSource;
  readonly #api: PublicationsApi;
  #policy: Promise<PublishPolicy> | null = null;
  /** Checked TFLite files by run and kind: only those of the classifier in use are kept. */
  readonly #built = new Map<string, Promise<CheckedTflite>>();

  constructor(source: PublicationSource, api: PublicationsApi = publicationsApi()) {
    this.#source = source;
    this.#api = api;
  }

  /** Who may publish on this server, read once (a failed read is tried again next time). */
  policy(): Promise<PublishPolicy> {
    const reading = (this.#policy ??= this.#api.policy());
    reading.catch(() => {
      if (this.#policy === reading) this.#policy = null;
    });
    return reading;
  }

  /** The admin token entered in this tab, if any. */
  get adminToken(): string | null {
    return sessionStorage.getItem(ADMIN_TOKEN_KEY);
  }

  /** Publishes the classifier in use. Rejects with PublicationError (see publishErrorText) or an Error in words. */
  async publish(attempt: PublishAttempt, onStep: (step: GatherStep | 'upload') => void = () => {}): Promise<Published> {
    const before = this.#api.requests;
    const policy = await this.policy();
    const token = attempt.adminToken?.trim() || null;
    if (policy.mode === 'admin' && !token) {
      throw new PublicationError('publishing on this server needs its admin token: enter it above', 401);
    }
    const input = await gatherPublication(this.#source, attempt, (kind) => this.#build(kind), onStep);
    const limit = token ? MAX_ADMIN_PUBLICATION_BYTES : policy.maxBytes;
    const bytes = fileBytesOf(input);
    if (bytes > limit - FRAMING_BYTES) {
      const hint = input.examples?.length ? ': leave the example photos out, or ' : ': ';
      throw new PublicationError(`the publication would hold ${formatLimit(bytes)}, more than this server takes (${formatLimit(limit)})${hint}train on a smaller base model`, 413);
    }
    onStep('upload');
    let result;
    try {
      result = await this.#api.publish(input, token ? { adminToken: token } : undefined);
    } catch (error) {
      if (token && error instanceof PublicationError && error.status === 401) sessionStorage.removeItem(ADMIN_TOKEN_KEY);
      throw error;
    }
    if (token) sessionStorage.setItem(ADMIN_TOKEN_KEY, token);
    await savePublication({ id: result.id, name: attempt.name, publishedAt: Date.now(), deleteKey: result.deleteKey, expiresAt: result.expiresAt });
    return {
      id: result.id,
      url: new URL(result.path, location.href).href,
      deleteKey: result.deleteKey,
      expiresAt: result.expiresAt,
      bytes: result.bytes,
      runs: input.runs,
      requests: this.#api.requests - before,
    };
  }

  /** The checked file of `kind` for the classifier in use, built once. */
  #build(kind: TfliteKind): Promise<CheckedTflite> {
    const runId = this.#source.classifierRunId;
    for (const key of this.#built.keys()) if (!key.startsWith(`${runId}|`)) this.#built.delete(key);
    const key = `${runId}|${kind}`;
    let built = this.#built.get(key);
    if (!built) {
      built = this.#source.exportTflite(kind);
      this.#built.set(key, built);
      // A build that failed (the dataset not chosen, say) is made again on the next try.
      built.catch(() => this.#built.get(key) === built && this.#built.delete(key));
    }
    return built;
  }

  /** The publications this browser made, newest first. */
  mine(): Promise<OwnPublication[]> {
    return listPublications();
  }

  /**
   * Takes a publication of this browser's down with its delete key, and forgets it. 'gone': the server no longer
   * had it (expired, or unpublished elsewhere), forgotten too. A refused key (403) leaves it listed.
   */
  async unpublish(id: string): Promise<'unpublished' | 'gone'> {
    const own = (await listPublications()).find((p) => p.id === id);
    if (!own) return 'gone';
    let outcome: 'unpublished' | 'gone' = 'unpublished';
    try {
      await this.#api.unpublish(id, { deleteKey: own.deleteKey });
    } catch (error) {
      if (!(error instanceof PublicationError && error.status === 404)) throw error;
      outcome = 'gone';
    }
    await forgetPublication(id);
    return outcome;
  }
}

/** A failed publish or unpublish as the visitor should read it: what happened and what to do. */
export function publishErrorText(error: unknown): string {
  if (!(error instanceof PublicationError)) return error instanceof Error ? error.message : String(error);
  const said = error.message.replace(/\.$/, '');
  switch (error.status) {
    case 0:
      return `Could not reach the server: ${said}. Nothing was published.`;
    case 401:
      return `Not published: ${said}. Check the admin token and try again.`;
    case 403:
      return `Refused: ${said}.`;
    case 413:
      return `Too large to publish: ${said}.`;
    case 429:
      return `Too many publications from your address just now: try again in ${error.retryAfter ?? 60} s.`;
    default:
      return `The server refused it (${error.status}): ${said}.`;
  }
}
