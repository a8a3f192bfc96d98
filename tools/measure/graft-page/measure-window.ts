/**
 * The page's globals as the functions handed to page.evaluate see them: window.graft (the page's own Session,
 * PageClassifier, Live and Publisher), Comlink from an init script, graftMeasureLog, and `measure`, the state openSession leaves for the
 * runs that follow (session.ts).
 *
 * Those functions run in the browser: they may only use their arguments and these globals.
 */
import type * as ComlinkApi from 'comlink';
import type { FarmProgress } from '../../../client/farm/farm';
import type { Live } from '../../../client/camera/live';
import type { PageClassifier } from '../../../client/page/classifier';
import type { Session } from '../../../client/page/session';
import type { Publisher } from '../../../client/page/publisher';
import type { Evaluation, History } from '../../../shared/training';

/** What the page's globals look like to the functions run in it. */
export interface MeasureWindow {
  graft: { session: Session; classifier: PageClassifier; live: Live; publisher: Publisher; ready: Promise<void> };
  graftMeasureLog(line: string): Promise<void>;
  Comlink: typeof ComlinkApi;
  measure: {
    session: Session;
    /** The classifier the session's runs leave: classify, Live and the exports. */
    classifier: PageClassifier;
    stateTimes: { state: string; at: number }[];
    /** The last progress of the current run's extraction, its results and its error. */
    extraction: FarmProgress | null;
    results: { history: History; evaluation: Evaluation } | null;
    error: string | null;
    /** Bytes as base64, the cheap way to hand a file back to Node. */
    toBase64(bytes: BlobPart): Promise<string>;
  };
}
