/**
 * Publishing, wired: the Publish panel follows the classifier in use and the dataset chosen (its photos check the
 * TFLite files and make the card's counts), asks the server who may publish when it is opened (not before: a
 * visit that never publishes makes no request for it), publishes through the Publisher and shows the link, QR code
 * and delete key; "Your publications" lists what this browser published, with Unpublish.
 */
import type { PageClassifier } from './classifier';
import type { Session } from './session';
import { exampleOffer } from './publication-input';
import { publishErrorText, type Publisher } from './publisher';
import type { ReadyClassifier } from './results-controller';
import { mountPublicationsList } from './views/publications-list';
import { mountPublishPanel, type PublishForm } from './views/publish-panel';
import { mountPublishResult } from './views/publish-result';
import { MAX_PUBLICATION_NAME_LENGTH, publicationPath } from '../../shared/publication';

export interface PublishController {
  /** A classifier came (trained, restored, opened) or went (null). */
  showClassifier(classifier: ReadyClassifier | null): void;
  /** Another dataset was chosen: what a publication would hold changes with it. */
  datasetChosen(): void;
  /** No publishing while a run extracts or trains (the export needs the trainer). */
  setBusy(busy: boolean): void;
  /** Reads this browser's publications again and lists them. */
  refresh(): Promise<void>;
}

export interface PublishElements {
  panel: HTMLElement;
  result: HTMLElement;
  list: HTMLElement;
}

const STEP_TEXT = {
  int8: 'Building the int8 TFLite file and checking it in LiteRT.js on your held-out photos…',
  float32: 'Building the float32 TFLite file and checking it in LiteRT.js…',
  examples: 'Making the model card…',
  upload: 'Uploading…',
} as const;

export function connectPublish(el: PublishElements, session: Session, classifierInUse: PageClassifier, publisher: Publisher): PublishController {
  const panel = mountPublishPanel(el.panel, { onOpen: () => void readPolicy(), onPublish: (form) => void publish(form) });
  const result = mountPublishResult(el.result);
  const list = mountPublicationsList(el.list, { onUnpublish: (id) => void unpublish(id), onForget: (id) => void unpublish(id) });
  let classifier: ReadyClassifier | null = null;
  /** Why the classifier is set aside (another base model is chosen), or null. */
  let aside: string | null = null;
  /** The publication the result shows, so it goes when unpublished. */
  let shownId: string | null = null;

  async function readPolicy(): Promise<void> {
    try {
      panel.setPolicy(await publisher.policy(), publisher.adminToken);
    } catch (error) {
      panel.setPolicy(null, null, publishErrorText(error).replace(/\.$/, ''));
    }
  }

  function updateOffer(): void {
    const dataset = session.dataset;
    if (!classifier) return panel.setOffer(null, 'Train a classifier first.');
    if (aside) return panel.setOffer(null, aside);
    if (!dataset || !classifier.classes.every((c) => dataset.classes.includes(c))) {
      return panel.setOffer(null, 'Choose the dataset this classifier was trained on (step 1): its photos check the TFLite files before they are published.');
    }
    const suggestedName = `${dataset.name} classifier`.slice(0, MAX_PUBLICATION_NAME_LENGTH).trim();
    panel.setOffer({ classes: classifier.classes.length, examples: exampleOffer(dataset, classifier.classes), suggestedName });
  }

  async function publish(form: PublishForm): Promise<void> {
    // The last publication's link and key go at once: what shows next is this one's, or why it failed.
    result.clear();
    shownId = null;
    panel.setProgress('Reading who may publish here…');
    try {
      const published = await publisher.publish(form, (step) => panel.setProgress(step === 'examples' && form.examples ? 'Making the model card and the example photos…' : STEP_TEXT[step]));
      panel.done();
      shownId = published.id;
      result.show(published);
    } catch (error) {
      panel.showError(publishErrorText(error));
    }
    await refresh().catch((error: unknown) => list.say(publishErrorText(error), true));
  }

  async function unpublish(id: string): Promise<void> {
    const name = (await publisher.mine()).find((p) => p.id === id)?.name ?? id;
    list.setBusy(id);
    try {
      const outcome = await publisher.unpublish(id);
      list.say(outcome === 'gone' ? `“${name}” was no longer on the server: it is forgotten here too.` : `Unpublished “${name}”: its link now says so, and its files are deleted.`);
      if (id === shownId) result.clear();
    } catch (error) {
      list.say(publishErrorText(error), true);
    } finally {
      list.setBusy(null);
    }
    await refresh().catch((error: unknown) => list.say(publishErrorText(error), true));
  }

  async function refresh(): Promise<void> {
    const mine = await publisher.mine();
    list.update(mine.map((p) => ({ ...p, url: new URL(publicationPath(p.id), location.href).href })));
  }

  function showClassifier(next: ReadyClassifier | null): void {
    classifier = next;
    updateOffer();
  }
  session.on('results', ({ evaluation, inputSize }) => showClassifier({ classes: evaluation.classes, inputSize, preprocessing: session.model!.preprocessing }));
  classifierInUse.on('aside', (why) => {
    aside = why;
    updateOffer();
  });

  return {
    showClassifier,
    datasetChosen: updateOffer,
    setBusy: (busy) => panel.setDisabled(busy),
    refresh,
  };
}
