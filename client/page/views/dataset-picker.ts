/**
 * Step 1: the server's datasets as selectable cards (radio buttons, so arrow keys work) and a drop zone or
 * folder picker for the visitor's own photos, one subfolder per class. Dropped files are checked for that
 * layout here and handed on as "<class>/<file>" paths; nothing is read or uploaded by this view.
 */
import type { DatasetRecord } from '../../../shared/records';
import { dropZone, h, replace, uniqueId } from './dom';
import { filesFromDrop, filesFromInput, type PickedFile } from './folder-input';
import { readClassFolders, toClassPaths } from '../../../shared/class-folders';
import { folderProblem, folderWarnings } from './folder';
import { formatBytes, formatCount, plural } from '../text/format';

/** Class chips shown per card before "and N more". */
const MAX_CHIPS = 12;

export interface DatasetPickerCallbacks {
  onSelectDataset(id: string): void;
  /** Accepted image files, `path` being "<class>/<path below the class folder>". */
  onDropFolder(files: PickedFile[]): void;
}

export interface DatasetPicker {
  /** `datasets` null while loading. */
  update(datasets: DatasetRecord[] | null, selectedId: string | null): void;
  /** Disables choosing while a run is under way. */
  setDisabled(disabled: boolean): void;
}

export function mountDatasetPicker(el: HTMLElement, callbacks: DatasetPickerCallbacks): DatasetPicker {
  const name = uniqueId('dataset');
  const list = h('div', { class: 'choice-list' }, h('p', { class: 'muted' }, 'Loading datasets…'));
  const fieldset = h('fieldset', { class: 'choices' }, h('legend', { class: 'subheading' }, 'Datasets on the server'), list);

  const input = h('input', { type: 'file', multiple: true, webkitdirectory: true, hidden: true });
  const chooseButton = h('button', { type: 'button', class: 'button', on: { click: () => input.click() } }, 'Choose a folder…');
  const result = h('div', { class: 'drop-result', attrs: { 'aria-live': 'polite' } });
  const zone = h(
    'div',
    { class: 'dropzone' },
    h('p', { class: 'dropzone-title' }, 'Or use your own photos'),
    h(
      'p',
      null,
      'Drop a folder here, or choose one. Put the photos of each class in its own subfolder: ',
      h('code', null, 'flowers/daisy/1.jpg'),
      ', ',
      h('code', null, 'flowers/roses/2.jpg'),
      '.',
    ),
    chooseButton,
    input,
    h('p', { class: 'note' }, 'Your photos never leave this computer: they are read and trained on in this browser tab.'),
    result,
  );
  el.classList.add('dataset-picker');
  replace(el, fieldset, zone);

  let disabled = false;

  function accept(picked: PickedFile[]): void {
    const paths = toClassPaths(picked.map((p) => p.path));
    const folders = readClassFolders(paths, { imagesOnly: true });
    const { skipped } = folders;
    const ignoredNote =
      skipped.length > 0
        ? h(
            'details',
            { class: 'compact' },
            h('summary', null, `${plural(skipped.length, 'file')} skipped`),
            h('ul', { class: 'plain-list' }, skipped.slice(0, 200).map((s) => h('li', null, h('code', null, s.file), ` — ${s.reason}`))),
          )
        : null;
    const problem = folderProblem(paths.length, folders);
    if (problem) {
      replace(result, h('p', { class: 'error-text' }, problem), ignoredNote);
      return;
    }
    const accepted = folders.classes.flatMap((c) => c.files.map((file) => `${c.dir}/${file}`));
    replace(
      result,
      h('p', { class: 'ok-text' }, `Found ${plural(folders.classes.length, 'class', 'classes')} and ${plural(accepted.length, 'photo')}.`),
      chips(folders.classes.map((c) => [c.name, c.files.length])),
      folderWarnings(folders).map((w) => h('p', { class: 'warning-text' }, w)),
      ignoredNote,
    );
    const fileAt = new Map(paths.map((path, i) => [path, picked[i].file]));
    callbacks.onDropFolder(accepted.map((path) => ({ file: fileAt.get(path)!, path })));
  }

  async function read(files: Promise<PickedFile[]>): Promise<void> {
    replace(result, h('p', { class: 'muted' }, 'Reading the folder…'));
    try {
      accept(await files);
    } catch (error) {
      replace(result, h('p', { class: 'error-text' }, `The folder could not be read: ${(error as Error).message || 'unknown error'}.`));
    }
  }

  input.addEventListener('change', () => {
    void read(Promise.resolve(filesFromInput(input)));
    input.value = '';
  });
  dropZone(zone, () => !disabled, (transfer) => void read(filesFromDrop(transfer)));

  return {
    update(datasets, selectedId) {
      if (datasets === null) {
        replace(list, h('p', { class: 'muted' }, 'Loading datasets…'));
        return;
      }
      if (datasets.length === 0) {
        replace(list, h('p', { class: 'muted' }, 'The server has no datasets yet: use a folder of your own photos below.'));
        return;
      }
      replace(
        list,
        datasets.map((d) => {
          const titleId = uniqueId('dataset-title');
          const metaId = uniqueId('dataset-meta');
          // Named by the title alone, described by the figures: the chips would make the name too long to hear.
          const radio = h('input', {
            type: 'radio',
            name,
            value: d.id,
            checked: d.id === selectedId,
            disabled,
            attrs: { 'aria-labelledby': titleId, 'aria-describedby': metaId },
            on: { change: () => callbacks.onSelectDataset(d.id) },
          });
          return h(
            'label',
            { class: 'choice-card' },
            radio,
            h('span', { class: 'choice-title', id: titleId }, d.name),
            h(
              'span',
              { class: 'choice-meta', id: metaId },
              `${plural(d.imageCount, 'image')} · ${plural(d.classes.length, 'class', 'classes')} · ${formatBytes(d.bytes)}`,
            ),
            chips(d.classes.map((c, i) => [c, d.classCounts[i] ?? 0])),
          );
        }),
      );
    },
    setDisabled(value) {
      disabled = value;
      for (const radio of list.querySelectorAll('input')) radio.disabled = value;
      chooseButton.disabled = value;
      zone.classList.toggle('disabled', value);
    },
  };
}

/** Class names with their image counts. */
function chips(classes: [string, number][]): HTMLElement {
  const shown = classes.slice(0, MAX_CHIPS);
  return h(
    'ul',
    { class: 'chips', attrs: { 'aria-label': 'Classes' } },
    shown.map(([label, count]) => h('li', { class: 'chip' }, label, ' ', h('span', { class: 'chip-count' }, formatCount(count)))),
    classes.length > shown.length ? h('li', { class: 'chip more' }, `and ${classes.length - shown.length} more`) : null,
  );
}
