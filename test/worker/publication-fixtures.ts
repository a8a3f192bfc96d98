/**
 * A publishable classifier for the publication tests (test/support/publication-fixture.ts) with the real cat and
 * dog photos as examples, built and sent through the page's client module.
 */
import { env } from 'cloudflare:workers';
import { buildPublication, publicationsApi, type PublishInput } from '../../client/api/publications';
import { app } from '../../worker/index';
import { CARD, smallTflite } from '../support/publication-fixture';
import { ADMIN, bytesOf } from './api';
import cat102 from '../../../shared/datasets/cats_vs_dogs/cats/cat.102.jpg?url&inline';
import dog0 from '../../../shared/datasets/cats_vs_dogs/dogs/dog.0.jpg?url&inline';

export async function examplePhotos() {
  return [
    { class: 'cats', jpeg: await bytesOf(cat102) },
    { class: 'dogs', jpeg: await bytesOf(dog0) },
  ];
}

/** A full publication: int8 (which the page runs) and float32 models, labels, and two example photos. */
export async function publishInput(overrides: Partial<PublishInput> = {}): Promise<PublishInput> {
  return {
    name: 'Cats or dogs?',
    description: 'Point the camera at a pet.\nTrained in Graft.',
    card: CARD,
    models: [smallTflite('int8'), smallTflite('float32')],
    runs: 'int8',
    examples: await examplePhotos(),
    ...overrides,
  };
}

/** The client module talking to the Worker in this isolate, with these bindings. */
export function clientOf(bindings: object = env) {
  return publicationsApi({ origin: 'http://graft.test', fetch: (input, init) => Promise.resolve(app.request(String(input), init, bindings)) });
}

/** POST /api/publications with this multipart body (and headers), as a test wants it sent. */
export function postPublication(form: FormData | BodyInit, headers: Record<string, string> = {}, bindings: object = env) {
  return app.request('/api/publications', { method: 'POST', body: form, headers }, bindings);
}

/** The manifest and form of the default publication, for tests that then spoil one part. */
export async function builtPublication(overrides: Partial<PublishInput> = {}) {
  return buildPublication(await publishInput(overrides));
}

/** The bindings with publishing open (PUBLISH=open), optionally with another TTL. */
export const openEnv = (vars: Record<string, string> = {}) => ({ ...env, PUBLISH: 'open', ...vars });

export { ADMIN };
