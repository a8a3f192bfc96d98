/**
 * Asking the browser to keep this site's storage (navigator.storage.persist()). Without it IndexedDB is "best
 * effort": the browser may clear it when the disk runs low, and a run's cached features, checkpoints and classifier
 * go with it. The page asks when a run it starts will store a lot (its storage plan, storage-plan.ts), or when the
 * visitor asks from "Coming back", and says what the browser answered. It never asks on load: Firefox answers
 * with a prompt to the visitor, so the question comes with the click that makes it worth asking.
 */
import type { StoragePlan } from './storage-plan';

/**
 * A run whose plan needs at least this much asks at Start. Below it, what the browser might clear costs little to
 * make again: the demo's default run plans about 50 MB and takes about two minutes here (2 cores), and 100 MB is
 * about 550 photos with fine-tuning (some 190 kB of cut activations each). The whole flowers set plans about 570 MB
 * and seven minutes of extraction and training: worth a question. A plan counts what the run still has to store, so
 * a run over features cached earlier asks only if it adds that much (the run that cached them asked).
 * Chromium answers without asking the visitor (by how much the site is used), Firefox asks once and remembers.
 */
export const ASK_FROM_BYTES = 100 * 1024 * 1024;

/** true: the browser keeps this site's storage; false: it did not agree; null: it cannot be asked. */
export type KeepAnswer = boolean | null;

type PersistentStorage = Pick<StorageManager, 'persist' | 'persisted'>;

export interface StoragePersistence {
  /** The storage plan of the run Start would begin, as the page last computed it. */
  planned(plan: StoragePlan): void;
  /**
   * At Start: when the planned run needs ASK_FROM_BYTES or more, asks the browser to keep the site's storage and
   * resolves to the plan's sentence followed by the answer; null when it did not ask.
   */
  askForLargeRun(): Promise<string | null>;
  /** Asks (the visitor's own request); resolves to the answer, also kept as `answer`. */
  ask(): Promise<KeepAnswer>;
  /** The browser's last answer in this page, or undefined before one. */
  readonly answer: KeepAnswer | undefined;
}

/** What the browser answered, in a sentence. */
export function keepSentence(answer: KeepAnswer): string {
  if (answer === null) return 'This browser cannot be asked to keep its storage: it may clear it when space runs low.';
  return answer
    ? 'The browser keeps this site’s storage: it will not clear it to make room.'
    : 'The browser did not agree to keep this site’s storage: it may clear it when space runs low, and a run then starts over.';
}

export function storagePersistence(storage: PersistentStorage | undefined = navigator.storage): StoragePersistence {
  let plan: StoragePlan | null = null;
  let answer: KeepAnswer | undefined;

  async function ask(): Promise<KeepAnswer> {
    try {
      // Already kept: nothing to ask (and no prompt in Firefox).
      answer = storage?.persist ? (await storage.persisted?.()) || (await storage.persist()) : null;
    } catch {
      // A TypeError when the origin has no storage of its own (an opaque origin, storage turned off).
      answer = null;
    }
    return answer;
  }

  return {
    planned(next) {
      plan = next;
    },
    async askForLargeRun() {
      if (!plan || plan.bytes < ASK_FROM_BYTES) return null;
      const { message } = plan;
      return `${message} ${keepSentence(await ask())}`;
    },
    ask,
    get answer() {
      return answer;
    },
  };
}

