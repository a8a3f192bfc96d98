/**
 * Reads the files of a dropped folder (DataTransfer entries, walked recursively) or a picked one
 * (<input webkitdirectory>) into File objects with their relative paths. Browser file APIs only.
 */

export interface PickedFile {
  file: File;
  /** Path as the browser reports it, e.g. "flowers/daisy/1.jpg". */
  path: string;
}

/** Files from <input type=file webkitdirectory multiple>. */
export function filesFromInput(input: HTMLInputElement): PickedFile[] {
  return [...(input.files ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

function readBatch(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    out.push({ file: await fileOf(entry as FileSystemFileEntry), path: entry.fullPath });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries returns at most 100 entries per call: keep reading until it returns none.
    for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
      for (const child of batch) await walk(child, out);
    }
  }
}

/**
 * Files of everything dropped. Must be called synchronously inside the drop handler: the entries are only
 * readable during the event, so they are taken before the first await.
 */
export function filesFromDrop(transfer: DataTransfer): Promise<PickedFile[]> {
  const items = [...transfer.items].filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry());
  // A file dropped without an entry (a drop made by script, a browser without the entries API) is taken as it is.
  const loose = items.flatMap((item, i) => {
    const file = entries[i] ? null : item.getAsFile();
    return file ? [{ file, path: file.name }] : [];
  });
  return (async () => {
    const out: PickedFile[] = loose;
    for (const entry of entries) if (entry) await walk(entry, out);
    return out;
  })();
}
