/**
 * The publishing contract: what `POST /api/publications` takes (a manifest and its files in one multipart body),
 * what it answers, the record `GET /api/publications/<id>` serves, and the limits both sides check. Routes and
 * statuses are listed in worker/routes/publications.ts. Valibot schemas are the single source; types are inferred.
 */
import * as v from 'valibot';
import { CardClassNameSchema, cardProblems, ModelCardSchema } from './model-card';
import { contentHashOf, MAX_NAME_LENGTH, nameProblem } from './names';
import type { TfliteKind, TfliteSignature } from './trainer-messages';

/** Random bytes in a publication id (128 bits), written as base64url without padding: 22 characters. */
export const PUBLICATION_ID_BYTES = 16;
export const PUBLICATION_ID = /^[A-Za-z0-9_-]{22}$/;
/** Random bytes in a delete key (256 bits), base64url: 43 characters. Only its sha256 is stored. */
export const DELETE_KEY_BYTES = 32;
/** The request header that carries a delete key. */
export const DELETE_KEY_HEADER = 'Graft-Delete-Key';

/** Largest publication body (manifest, files and multipart framing) a visitor may send when publishing is open. */
export const MAX_OPEN_PUBLICATION_BYTES = 8 * 1024 * 1024;
/** Largest publication body the admin may send: the Worker holds the body and its parts in its 128 MB at once. */
export const MAX_ADMIN_PUBLICATION_BYTES = 32 * 1024 * 1024;
/** Largest manifest part. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_EXAMPLE_PHOTOS = 12;
export const MAX_EXAMPLE_PHOTO_BYTES = 512 * 1024;
export const MAX_PUBLICATION_NAME_LENGTH = 80;
export const MAX_PUBLICATION_DESCRIPTION_LENGTH = 500;
/** Days an open-mode publication lives unless PUBLISH_TTL_DAYS says otherwise. */
export const DEFAULT_PUBLISH_TTL_DAYS = 30;

/** The multipart field of the manifest; every other field is a file, named by its `name` in the manifest. */
export const MANIFEST_PART = 'manifest';

/** The classify page of a publication (a static asset: client/m/index.html, served for every /m/*). */
export const publicationPath = (id: string): string => `/m/${id}`;

/** The file extension each role's content-addressed name must end with. */
export const ROLE_EXTENSION = { model: 'tflite', labels: 'txt', example: 'jpg' } as const;
export type FileRole = keyof typeof ROLE_EXTENSION;

// Control characters (C0, DEL, C1) and the bidirectional overrides that make text display other than it reads.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HIDDEN_EXCEPT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export const PublicationNameSchema = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(MAX_PUBLICATION_NAME_LENGTH, `must be at most ${MAX_PUBLICATION_NAME_LENGTH} characters`),
  v.check((s) => s.trim() === s, 'must not start or end with spaces'),
  v.check((s) => !HIDDEN.test(s), 'must be plain text on one line (no control characters)'),
);
export const PublicationDescriptionSchema = v.pipe(
  v.string(),
  v.maxLength(MAX_PUBLICATION_DESCRIPTION_LENGTH, `must be at most ${MAX_PUBLICATION_DESCRIPTION_LENGTH} characters`),
  v.check((s) => !HIDDEN_EXCEPT_NEWLINE.test(s), 'must be plain text (line breaks are kept, no other control characters)'),
);

const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const TfliteKindSchema = v.picklist(['float32', 'float16', 'int8']);

/** What a .tflite file takes and gives (shared/trainer-messages.ts TfliteSignature). */
export const TfliteSignatureSchema = v.object({
  input: v.object({
    shape: v.array(Count),
    type: v.picklist(['float32', 'uint8']),
    quantization: v.nullable(v.object({ scale: v.number(), zeroPoint: v.pipe(v.number(), v.integer()) })),
  }),
  output: v.object({ shape: v.array(Count), type: v.literal('float32') }),
});

const FileFields = {
  /** Content-addressed: `<stem>-<first 32 hex of sha256>.<extension of its role>`. */
  name: v.pipe(v.string(), v.maxLength(MAX_NAME_LENGTH), v.check((s) => nameProblem(s) === null, 'must be a safe file name')),
  bytes: v.pipe(Count, v.minValue(1)),
  sha256: Sha256,
};

export const PublishedFileSchema = v.variant('role', [
  /** A .tflite classifier: input [1, S, S, 3], output [1, classes] float32 probabilities. */
  v.object({ role: v.literal('model'), ...FileFields, kind: TfliteKindSchema, signature: TfliteSignatureSchema }),
  /** labels.txt: the classes, one a line, each line ended by '\n' (as the Android zip has it). */
  v.object({ role: v.literal('labels'), ...FileFields }),
  /** An example photo (JPEG) of one of the classes. */
  v.object({ role: v.literal('example'), ...FileFields, class: CardClassNameSchema }),
]);
export type PublishedFile = v.InferOutput<typeof PublishedFileSchema>;
export type PublishedModelFile = Extract<PublishedFile, { role: 'model' }>;

/** The `manifest` part of POST /api/publications. */
export const PublicationManifestSchema = v.object({
  version: v.literal(1),
  name: PublicationNameSchema,
  description: PublicationDescriptionSchema,
  card: ModelCardSchema,
  /** The kind of model file the classify page runs (one of the files with role 'model'). */
  runs: TfliteKindSchema,
  files: v.pipe(v.array(PublishedFileSchema), v.minLength(2), v.maxLength(3 + 1 + MAX_EXAMPLE_PHOTOS)),
});
export type PublicationManifest = v.InferOutput<typeof PublicationManifestSchema>;

/** What GET /api/publications/<id> serves: the manifest, and what the server decided. */
export const PublicationRecordSchema = v.object({
  id: v.pipe(v.string(), v.regex(PUBLICATION_ID)),
  ...PublicationManifestSchema.entries,
  /** When it was published (ISO 8601). */
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  /** When the scheduled sweep deletes it; null: pinned, never. */
  expiresAt: v.nullable(v.pipe(v.string(), v.isoTimestamp())),
  pinned: v.boolean(),
  /** Bytes of all its files. */
  bytes: Count,
});
export type PublicationRecord = v.InferOutput<typeof PublicationRecordSchema>;

/** The 201 answer to POST /api/publications. `deleteKey` is shown this once; the server keeps only its sha256. */
export interface PublishResult {
  id: string;
  /** The classify page: `/m/<id>`. */
  path: string;
  deleteKey: string;
  expiresAt: string | null;
  bytes: number;
}

/** One entry of GET /api/publications (admin only), newest first. */
export type PublicationSummary = Pick<PublicationRecord, 'id' | 'name' | 'createdAt' | 'expiresAt' | 'pinned' | 'bytes'>;

/** GET /api/publications/policy: who may publish on this server, and the limits that apply to a visitor. */
export interface PublishPolicy {
  /** 'admin': publishing needs the admin token; 'open': anyone may publish, within the limits. */
  mode: 'admin' | 'open';
  /** Largest body a visitor may send (open mode); the admin may send MAX_ADMIN_PUBLICATION_BYTES. */
  maxBytes: number;
  /** Days until a visitor's publication is deleted. The admin's are pinned (never deleted unless asked). */
  ttlDays: number;
}

/** The body of PATCH /api/publications/<id> (admin only). */
export const PublicationPatchSchema = v.strictObject({ pinned: v.boolean() });

/**
 * What is inconsistent in a manifest the schema accepted: file names that do not carry their hash or their role's
 * extension, a model of another size or class count than the card, a missing labels file, `runs` naming no model,
 * too many or too large example photos. Each message names the field. [] when there is nothing.
 */
export function manifestProblems(manifest: PublicationManifest): string[] {
  const problems: string[] = [];
  const { classes, base } = manifest.card;
  const names = new Set<string>();
  const kinds = new Set<TfliteKind>();
  let labels = 0;
  let examples = 0;
  manifest.files.forEach((file, i) => {
    const at = `files[${i}] (${file.name})`;
    if (names.has(file.name)) problems.push(`${at}: the name is listed twice`);
    names.add(file.name);
    const promised = contentHashOf(file.name);
    if (promised === null || !file.name.endsWith(`.${ROLE_EXTENSION[file.role]}`)) {
      problems.push(`${at}: a ${file.role} file must be named <stem>-<first 32 hex digits of its sha256>.${ROLE_EXTENSION[file.role]}`);
    } else if (!file.sha256.startsWith(promised)) {
      problems.push(`${at}: the name does not carry the start of its sha256 ${file.sha256}`);
    }
    if (file.role === 'labels') labels++;
    if (file.role === 'example') {
      examples++;
      if (!classes.includes(file.class)) problems.push(`${at}: class ${JSON.stringify(file.class)} is not one of card.classes`);
      if (file.bytes > MAX_EXAMPLE_PHOTO_BYTES) problems.push(`${at}: an example photo may hold at most ${MAX_EXAMPLE_PHOTO_BYTES} bytes`);
    }
    if (file.role === 'model') {
      if (kinds.has(file.kind)) problems.push(`${at}: a second ${file.kind} model`);
      kinds.add(file.kind);
      problems.push(...signatureProblems(file.signature, base.inputSize, classes.length).map((p) => `${at}: signature ${p}`));
    }
  });
  // What is wrong with the whole comes before what is wrong with each file.
  const whole = cardProblems(manifest.card);
  if (labels !== 1) whole.push(`files: must hold exactly one labels file (holds ${labels})`);
  if (examples > MAX_EXAMPLE_PHOTOS) whole.push(`files: at most ${MAX_EXAMPLE_PHOTOS} example photos (holds ${examples})`);
  if (!kinds.has(manifest.runs)) whole.push(`runs: names ${manifest.runs}, but files hold no ${manifest.runs} model`);
  return [...whole, ...problems];
}

function signatureProblems(signature: TfliteSignature, inputSize: number, classes: number): string[] {
  const problems: string[] = [];
  const input = JSON.stringify(signature.input.shape);
  if (input !== JSON.stringify([1, inputSize, inputSize, 3])) problems.push(`input.shape ${input} is not [1, ${inputSize}, ${inputSize}, 3]`);
  const output = JSON.stringify(signature.output.shape);
  if (output !== JSON.stringify([1, classes])) problems.push(`output.shape ${output} is not [1, ${classes}]`);
  if ((signature.input.type === 'uint8') !== (signature.input.quantization !== null)) {
    problems.push('input.quantization must be given for a uint8 input, and only then');
  }
  return problems;
}

/** labels.txt as it must be for these classes: one a line, each line ended by '\n'. */
export const labelsFileText = (classes: readonly string[]): string => classes.map((c) => `${c}\n`).join('');
