/**
 * The classify-only page /m/<id> of a published classifier, and its composition root: a static asset that reads
 * the publication's record, fetches the file it runs (hash-checked), compiles it in the LiteRT.js classifier
 * worker, and offers "classify a photo", Live on the camera, the model card, the Android zips and an embed
 * snippet. It never loads the training code: no tfjs, no trainer, no farm. An id that was unpublished, expired or
 * never existed gets a plain page saying so. `window.graftClassify` exposes it to the browser tests.
 */
import '../page/styles.css';
import './classify-page.css';
import { publicationsApi } from '../api/publications';
import { Live, liveUnavailableHere, type LiveFrame, type LiveStatus } from '../camera/live';
import { LiteRtClassifier } from '../classifier/litert-classifier';
import { saveFile } from '../page/save-file';
import { describeClassifier } from '../page/text/backend-text';
import { plainMessage } from '../page/text/format';
import { mountClassify } from '../page/views/classify';
import { mountLive } from '../page/views/live';
import { mountModelCard } from '../page/views/model-card';
import { mountSharePanel } from '../page/views/share-panel';
import { embedSnippet, modelFiles, Publication, publicationIdOf } from './publication';

declare global {
  interface Window {
    graftClassify: { ready: Promise<void>; live: Live | null; classifier: LiteRtClassifier };
  }
}

const byId = (id: string) => document.getElementById(id) as HTMLElement;
const api = publicationsApi();
const classifier = new LiteRtClassifier();
let live: Live | null = null;

/** The plain page of a publication that is not there. */
function showGone(): void {
  document.title = 'Classifier not found · Graft';
  byId('publication').hidden = true;
  byId('gone').hidden = false;
}

function showFailure(message: string): void {
  byId('failure').textContent = message;
}

/** Classify and Live, off until the classifier has compiled. */
function mountClassifying() {
  const classify = mountClassify(
    byId('classify'),
    {
      onClassify: (file) =>
        void classifier
          .classify(file)
          .then((top) => classify.update(top.map((c) => ({ label: c.className, probability: c.probability }))))
          .catch((error) => classify.showError(plainMessage(error))),
    },
    'Classify a photo',
  );
  classify.setEnabled(false, 'The classifier is loading…');
  const el = byId('live');
  const view = mountLive(el, { onStart: () => void live?.open(), onStop: () => live?.close() }, liveUnavailableHere());
  view.setEnabled(false, 'The classifier is loading…');
  live = new Live(view.video, (frame) => classifier.classifyFrame(frame));
  live.addEventListener('frame', (event) => view.showFrame((event as CustomEvent<LiveFrame>).detail));
  live.addEventListener('state', (event) => {
    const { state, message } = (event as CustomEvent<LiveStatus>).detail;
    view.setState(state, message);
  });
  // Scrolled out of sight, Live turns the camera off, as a hidden tab does.
  new IntersectionObserver(([entry]) => live?.setInView(entry.isIntersecting)).observe(el);
  window.graftClassify.live = live;
  return {
    setEnabled(enabled: boolean, reason?: string) {
      classify.setEnabled(enabled, reason);
      view.setEnabled(enabled, reason);
    },
  };
}

async function boot(): Promise<void> {
  const id = publicationIdOf(location.pathname);
  const record = id === null ? null : await api.record(id);
  if (!record) return showGone();
  const publication = new Publication(api, record);
  document.title = `${record.name} · Graft`;
  byId('name').textContent = record.name;
  byId('description').textContent = record.description;
  const classifying = mountClassifying();
  mountModelCard(byId('card'), record);
  const share = mountSharePanel(
    byId('share'),
    { files: modelFiles(record).map((file) => ({ kind: file.kind, bytes: file.bytes })), embed: embedSnippet(location.origin, record) },
    {
      onDownload: (kind) => {
        share.setBusy(kind);
        publication
          .androidZip(kind)
          .then((zip) => {
            saveFile(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), `graft-${kind}.zip`);
            share.setBusy(null);
          })
          .catch((error) => share.setBusy(null, plainMessage(error)));
      },
    },
  );
  const engine = byId('engine');
  try {
    const report = await publication.startClassifier(classifier);
    engine.textContent = `Classifies on this device: ${describeClassifier(report)}.`;
    classifying.setEnabled(true);
  } catch (error) {
    const message = `This classifier cannot run here: ${plainMessage(error)}`;
    engine.textContent = message;
    classifying.setEnabled(false, message);
    throw error;
  }
}

window.graftClassify = {
  live: null,
  classifier,
  ready: boot().catch((error) => {
    showFailure(plainMessage(error));
    throw error;
  }),
};
// The page shows what failed; tests read it from `ready`.
window.graftClassify.ready.catch(() => undefined);
