/**
 * Step 1, your own classes: a card per class with its name (editable), its samples (delete, move to another
 * class) and the ways to add some: hold a button to record from the camera (mirrored preview, live count), add
 * photo files or a folder, or drop them on the card. Also export and import the classes as a zip, and the
 * button that trains on them. The camera's button and its picture are here; turning it on and recording are the
 * caller's (client/camera/sample-camera.ts). Cards are updated in place (never rebuilt while a button is held)
 * and focus stays where the visitor works. Thumbnails are made as they come into view (lazy-thumbnails.ts).
 */
import type { SampleCameraState } from '../../camera/sample-camera';
import { dropZone, h, replace, uniqueId } from './dom';
import { filesFromDrop, filesFromInput, type PickedFile } from './folder-input';
import { lazyThumbnails } from './lazy-thumbnails';
import { formatCount, plural } from '../text/format';

/** Newest samples shown per class; the count says how many there are. */
const MAX_SHOWN = 48;

export interface LocalSampleView {
  id: string;
}

export interface LocalClassView {
  id: string;
  name: string;
  samples: LocalSampleView[];
}

export interface LocalDatasetState {
  classes: LocalClassView[];
  /** Two classes or more have samples. */
  trainable: boolean;
  /** The session trains on these classes. */
  inUse: boolean;
}

export interface LocalDatasetCallbacks {
  onAddClass(): void;
  /** Rejects with the reason a name is refused (shown beside the name). */
  onRenameClass(id: string, name: string): Promise<void>;
  onDeleteClass(id: string): void;
  onAddFiles(classId: string, files: PickedFile[]): void;
  /** The camera button: turn it on (true) or off. */
  onCamera(on: boolean): void;
  /** A class's "Hold to record" is pressed, or let go. */
  onRecordStart(classId: string): void;
  onRecordStop(): void;
  onDeleteSample(id: string): void;
  onMoveSample(id: string, classId: string): void;
  onExport(): void;
  onImport(file: File): void;
  onUse(): void;
  /** A sample's JPEG, for its thumbnail (asked for once it comes near the viewport). */
  sampleImage(id: string): Promise<Blob>;
}

export interface LocalDatasetView {
  /** Where the camera's picture plays (shown mirrored). */
  video: HTMLVideoElement;
  update(state: LocalDatasetState): void;
  /** What the camera does, and why it could not be opened. */
  setCamera(state: SampleCameraState): void;
  /** The class being recorded into (its button shows pressed), or null. */
  setRecording(classId: string | null): void;
  /** A message about the last action (aria-live). */
  setStatus(message: string, kind?: 'ok' | 'error' | 'muted'): void;
  /** Disables editing while a run is under way. */
  setDisabled(disabled: boolean): void;
  /** Moves focus to a class's name field (after it was added). */
  focusClass(id: string): void;
}

interface Card {
  el: HTMLElement;
  nameInput: HTMLInputElement;
  nameError: HTMLElement;
  count: HTMLElement;
  record: HTMLButtonElement;
  list: HTMLUListElement;
  more: HTMLElement;
  thumbs: Map<string, { li: HTMLLIElement; signature: string }>;
}

export function mountLocalDataset(el: HTMLElement, callbacks: LocalDatasetCallbacks): LocalDatasetView {
  let state: LocalDatasetState = { classes: [], trainable: false, inUse: false };
  let disabled = false;
  let cameraOn = false;
  let recordingInto: string | null = null;
  const cards = new Map<string, Card>();
  const thumbnails = lazyThumbnails((id) => callbacks.sampleImage(id));

  const video = h('video', { class: 'camera-video', muted: true, playsInline: true, autoplay: true, attrs: { 'aria-label': 'Camera preview (mirrored)' } });
  const cameraButton = h('button', { type: 'button', class: 'button' }, 'Turn the camera on');
  const cameraNote = h('p', { class: 'muted small', attrs: { 'aria-live': 'polite' } }, 'The camera is off. Turn it on to record samples; nothing is asked for before that.');
  const cameraBox = h('div', { class: 'camera-box' }, h('div', { class: 'camera-frame', hidden: true }, video), h('div', { class: 'camera-side' }, cameraButton, cameraNote));
  const addButton = h('button', { type: 'button', class: 'button', on: { click: () => callbacks.onAddClass() } }, '+ Add a class');
  const importInput = h('input', { type: 'file', accept: '.zip,application/zip', hidden: true, attrs: { 'aria-label': 'Import a zip of class folders' } });
  const importButton = h('button', { type: 'button', class: 'button', on: { click: () => importInput.click() } }, 'Import a .zip…');
  const exportButton = h('button', { type: 'button', class: 'button', on: { click: () => callbacks.onExport() } }, 'Export as .zip');
  const useButton = h('button', { type: 'button', class: 'button primary use-button', on: { click: () => callbacks.onUse() } }, 'Choose these classes');
  const status = h('p', { class: 'local-status muted small', attrs: { role: 'status' } });
  const list = h('ul', { class: 'class-list', attrs: { 'aria-label': 'Your classes' } });
  const empty = h('p', { class: 'muted' }, 'No classes yet: add one, then record or add its photos.');

  el.classList.add('local-dataset');
  replace(
    el,
    h('h3', { class: 'subheading' }, 'Or make your own classes here'),
    h('p', { class: 'muted small' }, 'Record from the camera, add photos or drop them on a class. They are kept in this browser and never uploaded.'),
    cameraBox,
    empty,
    list,
    h('div', { class: 'button-row' }, addButton, importButton, importInput, exportButton, useButton),
    status,
  );

  importInput.addEventListener('change', () => {
    const file = importInput.files?.[0];
    importInput.value = '';
    if (file) callbacks.onImport(file);
  });

  /** What the camera's note says in each state. */
  function setCamera(camera: SampleCameraState): void {
    cameraOn = camera.state === 'on';
    cameraButton.disabled = disabled || camera.state === 'opening';
    const notes: Record<SampleCameraState['state'], string> = {
      off: 'The camera is off.',
      opening: 'Asking for the camera…',
      on: 'Press and hold a class’s “Hold to record” button (or Space on it) to add frames to that class.',
      failed: camera.state === 'failed' ? camera.message : '',
    };
    cameraNote.textContent = notes[camera.state];
    cameraNote.className = camera.state === 'failed' ? 'error-text small' : 'muted small';
    (video.parentElement as HTMLElement).hidden = !cameraOn;
    cameraButton.textContent = cameraOn ? 'Turn the camera off' : 'Turn the camera on';
    refreshButtons();
  }
  cameraButton.addEventListener('click', () => callbacks.onCamera(!cameraOn));

  function setRecording(classId: string | null): void {
    for (const [id, card] of cards) {
      card.record.classList.toggle('recording', id === classId);
      card.record.setAttribute('aria-pressed', String(id === classId));
    }
    recordingInto = classId;
  }

  function startRecordingFor(classId: string): void {
    if (!disabled) callbacks.onRecordStart(classId);
  }

  function stopRecording(): void {
    if (recordingInto !== null) callbacks.onRecordStop();
  }

  function makeCard(id: string): Card {
    const nameId = uniqueId('class-name');
    const errorId = uniqueId('class-name-error');
    const nameInput = h('input', {
      type: 'text',
      id: nameId,
      class: 'class-name-input',
      maxLength: 200,
      attrs: { 'aria-describedby': errorId, autocomplete: 'off' },
    });
    const nameError = h('p', { class: 'field-error', id: errorId });
    const count = h('span', { class: 'class-count' });
    const heading = h('div', { class: 'class-card-head' }, h('label', { class: 'visually-hidden', htmlFor: nameId }, 'Class name'), nameInput, count);
    const record = h('button', { type: 'button', class: 'button record-button', attrs: { 'aria-pressed': 'false' } }, h('span', { class: 'record-dot', attrs: { 'aria-hidden': 'true' } }), 'Hold to record');
    const filesInput = h('input', { type: 'file', accept: 'image/*', multiple: true, hidden: true });
    const folderInput = h('input', { type: 'file', multiple: true, webkitdirectory: true, hidden: true });
    const addFiles = h('button', { type: 'button', class: 'button small', on: { click: () => filesInput.click() } }, 'Add photos…');
    const addFolder = h('button', { type: 'button', class: 'button small', on: { click: () => folderInput.click() } }, 'Add a folder…');
    const remove = h('button', { type: 'button', class: 'button small danger-outline', on: { click: () => callbacks.onDeleteClass(id) } }, 'Delete class');
    const list = h('ul', { class: 'thumb-grid sample-list' });
    const more = h('p', { class: 'muted small' });
    const el = h(
      'li',
      { class: 'class-card' },
      heading,
      nameError,
      h('div', { class: 'button-row' }, record, addFiles, addFolder, filesInput, folderInput, remove),
      h('p', { class: 'muted small drop-hint' }, 'Or drop photos or a folder on this class.'),
      list,
      more,
    );
    nameInput.addEventListener('change', () => {
      const name = nameInput.value;
      callbacks.onRenameClass(id, name).then(
        () => {
          nameError.textContent = '';
          nameInput.removeAttribute('aria-invalid');
        },
        (error: Error) => {
          nameError.textContent = error.message;
          nameInput.setAttribute('aria-invalid', 'true');
        },
      );
    });
    for (const input of [filesInput, folderInput]) {
      input.addEventListener('change', () => {
        const picked = filesFromInput(input);
        input.value = '';
        if (picked.length > 0) callbacks.onAddFiles(id, picked);
      });
    }
    dropZone(el, () => !disabled, (transfer) => void filesFromDrop(transfer).then((files) => files.length > 0 && callbacks.onAddFiles(id, files)));
    // Held with the pointer or with Space/Enter; let go, leave or lose focus and it stops.
    record.addEventListener('pointerdown', (event) => {
      record.setPointerCapture?.(event.pointerId);
      startRecordingFor(id);
    });
    for (const end of ['pointerup', 'pointercancel', 'lostpointercapture', 'blur'] as const) record.addEventListener(end, stopRecording);
    record.addEventListener('keydown', (event) => {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
      if (!event.repeat) startRecordingFor(id);
    });
    record.addEventListener('keyup', (event) => {
      if (event.key !== ' ' && event.key !== 'Enter') return;
      event.preventDefault();
      stopRecording();
    });
    return { el, nameInput, nameError, count, record, list, more, thumbs: new Map() };
  }

  function thumb(sample: LocalSampleView, index: number, cls: LocalClassView): HTMLLIElement {
    const label = `sample ${index + 1} of ${cls.name}`;
    const move = h(
      'select',
      { class: 'sample-move', attrs: { 'aria-label': `Move ${label} to another class` } },
      h('option', { value: '' }, 'Move to…'),
      state.classes.filter((c) => c.id !== cls.id).map((c) => h('option', { value: c.id }, c.name)),
    );
    move.disabled = disabled || state.classes.length < 2;
    move.addEventListener('change', () => move.value && callbacks.onMoveSample(sample.id, move.value));
    const remove = h(
      'button',
      { type: 'button', class: 'sample-delete', attrs: { 'aria-label': `Delete ${label}` }, disabled, on: { click: () => callbacks.onDeleteSample(sample.id) } },
      '×',
    );
    return h('li', { class: 'sample thumb', attrs: { 'data-sample': sample.id } }, thumbnails.image(sample.id, `Sample ${index + 1} of ${cls.name}`), remove, move);
  }

  function updateCard(card: Card, cls: LocalClassView): void {
    if (document.activeElement !== card.nameInput && !card.nameInput.hasAttribute('aria-invalid')) card.nameInput.value = cls.name;
    card.count.textContent = plural(cls.samples.length, 'sample');
    const shown = cls.samples.slice(-MAX_SHOWN);
    const offset = cls.samples.length - shown.length;
    const classesSignature = state.classes.map((c) => `${c.id}:${c.name}`).join('|');
    const keep = new Set(shown.map((s) => s.id));
    /** Where the focus was when its sample went (deleted or moved): it goes to the sample now there. */
    let focusAt: number | null = null;
    for (const [id, { li }] of card.thumbs) {
      if (!keep.has(id)) {
        if (li.contains(document.activeElement)) focusAt = [...card.list.children].indexOf(li);
        li.remove();
        card.thumbs.delete(id);
      }
    }
    shown.forEach((sample, i) => {
      const signature = `${offset + i}|${cls.name}|${classesSignature}|${disabled}`;
      const known = card.thumbs.get(sample.id);
      let li: HTMLLIElement;
      if (known && known.signature === signature) li = known.li;
      else {
        li = thumb(sample, offset + i, cls);
        // A rebuilt sample keeps the focus on the same control.
        const focused = known?.li.contains(document.activeElement) ? (document.activeElement as HTMLElement).className : null;
        known?.li.replaceWith(li);
        if (focused) li.querySelector<HTMLElement>(`.${focused}`)?.focus();
        card.thumbs.set(sample.id, { li, signature });
      }
      if (card.list.children[i] !== li) card.list.insertBefore(li, card.list.children[i] ?? null);
    });
    if (focusAt !== null) {
      const at = card.list.children[Math.min(focusAt, card.list.children.length - 1)];
      (at?.querySelector<HTMLElement>('.sample-delete') ?? card.nameInput).focus();
    }
    card.more.textContent = offset > 0 ? `Showing the newest ${formatCount(shown.length)} of ${formatCount(cls.samples.length)}.` : '';
    card.more.hidden = offset === 0;
  }

  function refreshButtons(): void {
    for (const card of cards.values()) card.record.disabled = disabled || !cameraOn;
    for (const card of cards.values()) {
      for (const control of card.el.querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button:not(.record-button)')) control.disabled = disabled;
    }
    addButton.disabled = disabled;
    importButton.disabled = disabled;
    exportButton.disabled = disabled || state.classes.every((c) => c.samples.length === 0);
    useButton.disabled = disabled || !state.trainable;
    useButton.setAttribute('aria-pressed', String(state.inUse));
  }

  return {
    video,
    setCamera,
    setRecording,
    update(next) {
      state = next;
      const ids = new Set(next.classes.map((c) => c.id));
      for (const [id, card] of cards) {
        if (ids.has(id)) continue;
        if (recordingInto === id) stopRecording();
        const hadFocus = card.el.contains(document.activeElement);
        card.el.remove();
        cards.delete(id);
        if (hadFocus) addButton.focus();
      }
      next.classes.forEach((cls, i) => {
        let card = cards.get(cls.id);
        if (!card) cards.set(cls.id, (card = makeCard(cls.id)));
        updateCard(card, cls);
        if (list.children[i] !== card.el) list.insertBefore(card.el, list.children[i] ?? null);
      });
      empty.hidden = next.classes.length > 0;
      thumbnails.keepOnly(new Set([...cards.values()].flatMap((card) => [...card.thumbs.keys()])));
      refreshButtons();
    },
    setStatus(message, kind = 'muted') {
      status.textContent = message;
      status.className = `local-status small ${kind === 'ok' ? 'ok-text' : kind === 'error' ? 'error-text' : 'muted'}`;
    },
    setDisabled(value) {
      disabled = value;
      if (value) stopRecording();
      cameraButton.disabled = value;
      refreshButtons();
      for (const cls of state.classes) {
        const card = cards.get(cls.id);
        if (card) updateCard(card, cls);
      }
    },
    focusClass(id) {
      const input = cards.get(id)?.nameInput;
      input?.focus();
      input?.select();
    },
  };
}
