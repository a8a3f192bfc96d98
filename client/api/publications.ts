/**
 * The publishing API as the pages (and the host's CLI) call it: build a publication from the trained files and
 * send it in one request, read a record, fetch a file checked against its sha256, pin, list, unpublish.
 * Contract in shared/publication.ts. Runs in the browser, Node and workerd: fetch, FormData, Blob and crypto.subtle.
 */
import * as v from 'valibot';
import type { ModelCard } from '../../shared/model-card';
import { contentAddressedName } from '../../shared/names';
import {
  DELETE_KEY_HEADER,
  manifestProblems,
  PublicationManifestSchema,
  PublicationRecordSchema,
  ROLE_EXTENSION,
  labelsFileText,
  type PublicationManifest,
  type PublicationRecord,
  type PublicationSummary,
  type FileRole,
  type PublishedFile,
  type PublishPolicy,
  type PublishResult,
} from '../../shared/publication';
import { describeIssues } from '../../shared/records';
import type { TfliteKind, TfliteSignature } from '../../shared/trainer-messages';
import { sha256Hex } from '../../shared/sha256';

/** A refusal or failure, with the server's message; `status` 0 when the server was not reached. */
export class PublicationError extends Error {
  override name = 'PublicationError';

  constructor(
    message: string,
    readonly status: number,
    /** Seconds to wait before publishing again (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface PublishInput {
  name: string;
  description: string;
  card: ModelCard;
  /** The .tflite files (as the export made and checked them); `runs` names the kind the classify page runs. */
  models: { kind: TfliteKind; file: Uint8Array; signature: TfliteSignature }[];
  runs: TfliteKind;
  /** Example photos (JPEG), only when the visitor chose to share them. The same bytes twice are sent once. */
  examples?: { class: string; jpeg: Uint8Array }[];
}

export interface BuiltPublication {
  manifest: PublicationManifest;
  /** The multipart body's parts: the manifest, then one file part per file, named as the manifest names it. */
  form: FormData;
  /** Bytes of all files (the body is this plus the manifest and the multipart framing). */
  fileBytes: number;
}

/** A file's manifest fields: its content-addressed name (`<stem>-<hash>.<extension of its role>`), size and sha256. */
async function describe<R extends FileRole>(bytes: Uint8Array, stem: string, role: R) {
  const sha256 = await sha256Hex(bytes);
  return { role, name: contentAddressedName(stem, sha256, ROLE_EXTENSION[role]), bytes: bytes.byteLength, sha256 };
}

/** The manifest and multipart body of a publication; PublicationError (status 0) when the input is not publishable. */
export async function buildPublication(input: PublishInput): Promise<BuiltPublication> {
  const parts: { entry: PublishedFile; bytes: Uint8Array }[] = [];
  const push = (entry: PublishedFile, bytes: Uint8Array) => {
    if (!parts.some((part) => part.entry.name === entry.name)) parts.push({ entry, bytes });
  };
  for (const model of input.models) {
    push({ ...(await describe(model.file, `model-${model.kind}`, 'model')), kind: model.kind, signature: model.signature }, model.file);
  }
  const labels = new TextEncoder().encode(labelsFileText(input.card.classes));
  push(await describe(labels, 'labels', 'labels'), labels);
  for (const example of input.examples ?? []) push({ ...(await describe(example.jpeg, 'example', 'example')), class: example.class }, example.jpeg);

  const candidate = { version: 1, name: input.name, description: input.description, card: input.card, runs: input.runs, files: parts.map((p) => p.entry) };
  const parsed = v.safeParse(PublicationManifestSchema, candidate);
  if (!parsed.success) throw new PublicationError(`the publication is not valid: ${describeIssues(parsed.issues)}`, 0);
  const problems = manifestProblems(parsed.output);
  if (problems.length > 0) throw new PublicationError(`the publication is not consistent: ${problems.slice(0, 5).join('; ')}`, 0);

  const form = new FormData();
  form.append('manifest', JSON.stringify(parsed.output));
  for (const { entry, bytes } of parts) form.append(entry.name, new Blob([bytes as Uint8Array<ArrayBuffer>]), entry.name);
  return { manifest: parsed.output, form, fileBytes: parts.reduce((sum, p) => sum + p.bytes.byteLength, 0) };
}

export interface PublicationsApiOptions {
  /** '' (the page's own origin) or e.g. 'http://127.0.0.1:8787'. */
  origin?: string;
  fetch?: typeof fetch;
}

/** Credentials for the admin-only calls and for unpublishing. */
export type Credential = { adminToken: string } | { deleteKey: string };

const credentialHeaders = (credential?: Credential): Record<string, string> =>
  credential === undefined ? {} : 'adminToken' in credential ? { Authorization: `Bearer ${credential.adminToken}` } : { [DELETE_KEY_HEADER]: credential.deleteKey };

export function publicationsApi(options: PublicationsApiOptions = {}) {
  const origin = options.origin ?? '';
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  const counter = { requests: 0 };

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    counter.requests++;
    let response: Response;
    try {
      response = await fetchFn(`${origin}${path}`, init);
    } catch (error) {
      throw new PublicationError(`${path}: ${(error as Error).message || 'network error'}`, 0);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    let message = text.slice(0, 300) || response.statusText;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // Not the API's JSON error (a proxy's page, say): its text says more than nothing.
    }
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw new PublicationError(message, response.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
  }
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await call(path, init)).json()) as T;
  const idPath = (id: string) => `/api/publications/${encodeURIComponent(id)}`;

  return {
    /** Requests made through this object so far. */
    get requests() {
      return counter.requests;
    },
    policy: () => json<PublishPolicy>('/api/publications/policy'),

    /** Publishes in one POST. Without an admin token it works only where publishing is open. */
    async publish(input: PublishInput, credential?: { adminToken: string }): Promise<PublishResult> {
      const { form } = await buildPublication(input);
      return json<PublishResult>('/api/publications', { method: 'POST', body: form, headers: credentialHeaders(credential) });
    },

    /** The record, or null when it was unpublished, expired or never existed (404). */
    async record(id: string): Promise<PublicationRecord | null> {
      try {
        const parsed = v.safeParse(PublicationRecordSchema, await json(idPath(id)));
        if (!parsed.success) throw new PublicationError(`the record of ${id} is not valid: ${describeIssues(parsed.issues)}`, 200);
        return parsed.output;
      } catch (error) {
        if (error instanceof PublicationError && error.status === 404) return null;
        throw error;
      }
    },

    /** A file of the record, refused (PublicationError) unless its bytes hash to the record's sha256. */
    async file(record: PublicationRecord, name: string): Promise<Uint8Array> {
      const entry = record.files.find((file) => file.name === name);
      if (!entry) throw new PublicationError(`publication ${record.id} has no file ${name}`, 0);
      const bytes = new Uint8Array(await (await call(`${idPath(record.id)}/${encodeURIComponent(name)}`)).arrayBuffer());
      const hash = await sha256Hex(bytes);
      if (hash !== entry.sha256) {
        throw new PublicationError(`file ${name} failed its hash check (sha256 ${hash.slice(0, 12)}…, the record says ${entry.sha256.slice(0, 12)}…)`, 200);
      }
      return bytes;
    },

    /** Deletes it and all its files; the number of files deleted. */
    async unpublish(id: string, credential: Credential): Promise<number> {
      return (await json<{ deleted: number }>(idPath(id), { method: 'DELETE', headers: credentialHeaders(credential) })).deleted;
    },

    list: (credential: { adminToken: string }) => json<PublicationSummary[]>('/api/publications', { headers: credentialHeaders(credential) }),

    /** Pinned: never expires; unpinned: expires the server's TTL from now. */
    setPinned: (id: string, pinned: boolean, credential: { adminToken: string }) =>
      json<PublicationRecord>(idPath(id), {
        method: 'PATCH',
        body: JSON.stringify({ pinned }),
        headers: { 'Content-Type': 'application/json', ...credentialHeaders(credential) },
      }),
  };
}

export type PublicationsApi = ReturnType<typeof publicationsApi>;

/** The model file the classify page runs. */
export const runnableModel = (record: PublicationRecord) =>
  record.files.find((file): file is Extract<PublishedFile, { role: 'model' }> => file.role === 'model' && file.kind === record.runs)!;
