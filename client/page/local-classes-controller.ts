/**
 * Step 1's own classes, wired: the classes the visitor builds (local-classes.ts) joined to their view
 * (views/local-dataset.ts), to the camera they record from (camera/sample-camera.ts) and to the session. Each
 * edit is reported in the view's status line (a failure changes nothing). While these classes are the session's
 * dataset, the next run takes them as edited once the edits pause (not at every recorded frame) or at Start,
 * whichever comes first. A wrong prediction of one of their samples is fixed from the results' gallery (`fixes`).
 */
import { SampleCamera } from '../camera/sample-camera';
import { isStorageFull } from '../cache/errors';
import { isOnDeviceId, type DatasetChoice } from './dataset-source';
import { LocalClasses, type AddReport } from './local-classes';
import { saveFile } from './save-file';
import type { Session } from './session';
import { formatCount, plainMessage, plural } from './text/format';
import { mountLocalDataset } from './views/local-dataset';
import type { PredictionFixes } from './views/prediction-gallery';

export interface LocalClassesController {
  /** Reads the classes and samples stored by earlier visits. */
  load(): Promise<void>;
  /** The results' gallery moves a wrong prediction of a sample built here to the predicted class, or deletes it. */
  readonly fixes: PredictionFixes;
  /** Redraws the classes (also when the session's dataset changes: "Choose these classes" shows pressed). */
  refresh(): void;
  /** No edits while a run extracts or trains. */
  setDisabled(disabled: boolean): void;
  /** Takes the classes built here again if an edit is waiting to be taken; a no-op otherwise. */
  rechoose(): Promise<void>;
}

/** Makes a dataset the session's choice and shows it, as picking a dataset does (main.ts). */
export type ChooseData = (load: () => Promise<DatasetChoice>, id: string | null) => Promise<void>;

function addedMessage({ added, duplicates, skipped }: AddReport): string {
  const parts = [`Added ${plural(added, 'sample')}.`];
  if (duplicates > 0) parts.push(`${plural(duplicates, 'image')} already in your classes, not added again.`);
  if (skipped.length > 0) {
    parts.push(`${plural(skipped.length, 'file')} skipped: ${skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join(', ')}${skipped.length > 3 ? '…' : ''}`);
  }
  return parts.join(' ');
}

export function connectLocalClasses(el: HTMLElement, session: Session, chooseData: ChooseData): LocalClassesController {
  const localClasses = new LocalClasses();
  /** A change to the classes built here, reported in the view's status line; a failure changes nothing. */
  const editLocal = (action: () => Promise<string | void>) =>
    void action().then(
      (message) => message && localView.setStatus(message, 'ok'),
      (error: unknown) => localView.setStatus(plainMessage(error), 'error'),
    );
  const localView = mountLocalDataset(el, {
    onAddClass: () =>
      editLocal(async () => {
        const added = await localClasses.addClass(localClasses.nextClassName());
        localView.focusClass(added.id);
      }),
    onRenameClass: (id, name) => localClasses.renameClass(id, name),
    onDeleteClass: (id) =>
      editLocal(async () => {
        const name = localClasses.classes.find((c) => c.id === id)?.name;
        const samples = localClasses.samplesOf(id).length;
        await localClasses.deleteClass(id);
        return `Deleted “${name}” and its ${plural(samples, 'sample')}.`;
      }),
    onAddFiles: (classId, files) => {
      localView.setStatus(`Adding ${plural(files.length, 'file')}…`);
      editLocal(async () => addedMessage(await localClasses.addFiles(classId, files.map(({ file, path }) => ({ file, name: path })))));
    },
    onCamera: (on) => (on ? void camera.turnOn() : camera.turnOff()),
    onRecordStart: (classId) =>
      camera.startRecording(classId, (video) =>
        localClasses.addFrame(classId, video).then(
          () => undefined,
          (error: unknown) => {
            localView.setStatus(plainMessage(error), 'error');
            // Every next frame would fail the same way.
            if (isStorageFull(error)) camera.stopRecording();
          },
        ),
      ),
    onRecordStop: () => camera.stopRecording(),
    onDeleteSample: (id) => editLocal(() => localClasses.deleteSample(id)),
    onMoveSample: (id, classId) =>
      editLocal(async () => {
        await localClasses.moveSample(id, classId);
        return `Moved a sample to “${localClasses.classes.find((c) => c.id === classId)?.name}”.`;
      }),
    onExport: () => editLocal(async () => saveFile(await localClasses.exportZip(), 'graft-classes.zip')),
    onImport: (file) => {
      localView.setStatus(`Importing ${file.name}…`);
      editLocal(async () => {
        const report = await localClasses.importZip(file, ({ className, handled, images }) =>
          localView.setStatus(`Importing ${file.name}: “${className}”, ${formatCount(handled)} of ${plural(images, 'image')}…`),
        );
        return `${plural(report.classes, 'class', 'classes')} in the zip. ${addedMessage(report)}`;
      });
    },
    onUse: () => void chooseData(() => session.chooseOnDevice(), null),
    sampleImage: (id) => localClasses.image(id),
  });

  const camera = new SampleCamera(localView.video, (state) => localView.setCamera(state), (classId) => localView.setRecording(classId));

  const usingLocal = () => session.dataset !== null && isOnDeviceId(session.dataset.id);
  const runInProgress = () => session.state === 'extracting' || session.state === 'training';
  let rechooseTimer: ReturnType<typeof setTimeout> | undefined;

  function refresh(): void {
    localView.update({
      classes: localClasses.classes.map((c) => ({
        id: c.id,
        name: c.name,
        samples: localClasses.samplesOf(c.id).map((s) => ({ id: s.id })),
      })),
      trainable: localClasses.trainable,
      inUse: usingLocal(),
    });
  }

  function rechooseLocal(): Promise<void> {
    if (rechooseTimer === undefined) return Promise.resolve();
    clearTimeout(rechooseTimer);
    rechooseTimer = undefined;
    return chooseData(() => session.chooseOnDevice(), null);
  }

  localClasses.onChange(() => {
    refresh();
    // These classes chosen: the next run takes them as they are once the edits pause (not every recorded frame),
    // or at Start, whichever comes first.
    clearTimeout(rechooseTimer);
    // During a run the edit waits for the next Start: the run in progress keeps the data it planned with.
    rechooseTimer = usingLocal() ? setTimeout(() => !runInProgress() && void rechooseLocal(), 600) : undefined;
  });

  return {
    load: () => localClasses.load(),
    fixes: {
      canFix: (imageId) => localClasses.samples.some((s) => s.id === imageId),
      relabel: (imageId, className) => localClasses.moveSampleToClassNamed(imageId, className),
      remove: (imageId) => localClasses.deleteSample(imageId),
    },
    refresh,
    setDisabled: (disabled) => localView.setDisabled(disabled),
    rechoose: rechooseLocal,
  };
}
