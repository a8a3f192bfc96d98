/**
 * Reading a publication upload: one multipart/form-data body holding the `manifest` part (JSON,
 * shared/publication.ts) and one file part per file it lists, named by the file's name. Everything is checked
 * before anything is stored: the size limit, the manifest's schema and consistency, and each file's presence,
 * size, sha256 and kind of content. Each refusal says what to change (413, 415, 400).
 */
import {
  labelsFileText,
  MANIFEST_PART,
  manifestProblems,
  MAX_MANIFEST_BYTES,
  PublicationManifestSchema,
  type PublicationManifest,
  type PublishedFile,
} from '../shared/publication';
import { apiError } from './errors';
import type { StoredFile } from './publication-store';
import { sha256Hex } from '../shared/sha256';
import { parseDocument, readLimited } from './uploads';

export interface ReceivedPublication {
  manifest: PublicationManifest;
  files: StoredFile[];
  /** Bytes of all files. */
  bytes: number;
}

const CONTENT_TYPE: Record<PublishedFile['role'], string> = {
  model: 'application/octet-stream',
  labels: 'text/plain; charset=utf-8',
  example: 'image/jpeg',
};

/** `maxBytes` in words: "8 MB (8388608 bytes)". */
const sizeText = (maxBytes: number) => `${maxBytes / (1024 * 1024)} MB (${maxBytes} bytes)`;

export async function receivePublication(request: Request, maxBytes: number): Promise<ReceivedPublication> {
  const contentType = request.headers.get('Content-Type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType)) {
    throw apiError(415, `a publication is sent as multipart/form-data (a "${MANIFEST_PART}" part and one part per file), not ${contentType || 'a body without Content-Type'}`);
  }
  const body = await readLimited(request, maxBytes, () =>
    apiError(413, `the publication is larger than ${sizeText(maxBytes)}, the most one publication may hold here`),
  );
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'Content-Type': contentType } }).formData();
  } catch (error) {
    throw apiError(400, `the body is not valid multipart/form-data: ${(error as Error).message}`);
  }

  const manifest = await manifestOf(form);
  const listed = new Map(manifest.files.map((file) => [file.name, file]));
  for (const name of new Set(form.keys())) {
    if (name !== MANIFEST_PART && !listed.has(name)) {
      throw apiError(400, `part ${JSON.stringify(name.slice(0, 200))} is not a file the manifest lists`);
    }
  }
  const files: StoredFile[] = [];
  for (const entry of manifest.files) {
    const bytes = await partBytes(form, entry.name);
    await checkFile(entry, bytes, manifest);
    files.push({ name: entry.name, body: bytes, sha256: entry.sha256, contentType: CONTENT_TYPE[entry.role] });
  }
  return { manifest, files, bytes: files.reduce((sum, file) => sum + file.body.byteLength, 0) };
}

async function manifestOf(form: FormData): Promise<PublicationManifest> {
  const parts = form.getAll(MANIFEST_PART);
  if (parts.length !== 1) throw apiError(400, `the body must hold one "${MANIFEST_PART}" part (it holds ${parts.length})`);
  const part = parts[0]!;
  const size = typeof part === 'string' ? new TextEncoder().encode(part).byteLength : part.size;
  if (size > MAX_MANIFEST_BYTES) throw apiError(400, `the manifest is longer than ${MAX_MANIFEST_BYTES} bytes`);
  const text = typeof part === 'string' ? part : await part.text();
  const manifest = parseDocument(PublicationManifestSchema, text, 'the manifest');
  const problems = manifestProblems(manifest);
  if (problems.length > 0) throw apiError(400, `the manifest is not consistent: ${problems.slice(0, 5).join('; ')}`);
  return manifest;
}

async function partBytes(form: FormData, name: string): Promise<Uint8Array> {
  const parts = form.getAll(name);
  if (parts.length === 0) throw apiError(400, `file ${name} is listed in the manifest but not sent`);
  if (parts.length > 1) throw apiError(400, `file ${name} is sent ${parts.length} times`);
  const part = parts[0]!;
  if (typeof part === 'string') throw apiError(400, `file ${name} must be sent as a file part (with a filename), not as a text field`);
  return new Uint8Array(await part.arrayBuffer());
}

/** Size, hash, and that the bytes are what the role says: a .tflite, the labels of the card's classes, a JPEG. */
async function checkFile(entry: PublishedFile, bytes: Uint8Array, manifest: PublicationManifest): Promise<void> {
  const at = `file ${entry.name}`;
  if (bytes.byteLength !== entry.bytes) throw apiError(400, `${at} holds ${bytes.byteLength} bytes, the manifest says ${entry.bytes}`);
  const actual = await sha256Hex(bytes);
  if (actual !== entry.sha256) throw apiError(400, `${at}: its sha256 is ${actual}, the manifest says ${entry.sha256}`);
  if (entry.role === 'model' && !isTflite(bytes)) throw apiError(400, `${at} is not a .tflite file (no TFL3 identifier)`);
  if (entry.role === 'example' && !isJpeg(bytes)) throw apiError(400, `${at} is not a JPEG photo`);
  if (entry.role === 'labels') {
    const expected = labelsFileText(manifest.card.classes);
    let text: string | null;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      text = null;
    }
    if (text !== expected) throw apiError(400, `${at} must hold card.classes, one a line, each line ended by a line feed`);
  }
}

/** A TFLite FlatBuffer carries the file identifier "TFL3" after its root offset. */
const isTflite = (bytes: Uint8Array) => bytes.byteLength > 8 && String.fromCharCode(...bytes.subarray(4, 8)) === 'TFL3';
const isJpeg = (bytes: Uint8Array) => bytes.byteLength > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
