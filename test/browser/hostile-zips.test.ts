/**
 * Your own classes against hostile or unlucky input, in headless Chromium against the real `wrangler dev`, with
 * zips the test writes byte by byte (test/support/crafted-zips.ts): a zip bomb of entries each exactly the
 * per-entry cap, one that would unpack past the total cap, a zip64 end record declaring 20 million entries, a
 * name twice. Each is refused or read with its reason shown while the page's main thread never works 50 ms in one
 * piece (Chromium's trace). A full browser storage while adding photos, recording and importing: the status line
 * says so in words and what was kept, and an import keeps whole classes only. Thousands of samples: thumbnails
 * are made for those in view, and the start reads no sample's bytes but theirs.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_ZIP_ENTRIES, MAX_ZIP_ENTRY_BYTES, MAX_ZIP_IMAGE_BYTES } from '../../client/page/zip-limits';
import { formatBytes, formatCount } from '../../client/page/text/format';
import { launchChromium, type Chromium } from '../../tools/measure/chromium';
import { fakeCameraFlags, writeY4m } from '../../tools/measure/fake-camera';
import { busyForLong, traceMainThread } from '../../tools/measure/main-thread';
import { within } from '../../tools/measure/within';
import { openGraft } from '../support/browser';
import { craftZip, deflated, deflatedZeros, stored } from '../support/crafted-zips';
import { SHARED, seededGraft, type SeededGraft } from '../support/graft-fixture';
import { deleteAllRecords, getAllRecords } from '../support/raw-idb';

const CATS = join(SHARED, 'datasets/cats_vs_dogs/cats');
const DOGS = join(SHARED, 'datasets/cats_vs_dogs/dogs');

let graft: SeededGraft;
let chrome: Chromium;
let work: string;
let cats: Buffer[];
let dogs: Buffer[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'graft-zips-'));
  const catFiles = (await readdir(CATS)).sort().slice(0, 12);
  const dogFiles = (await readdir(DOGS)).sort().slice(0, 12);
  cats = await Promise.all(catFiles.map((f) => readFile(join(CATS, f))));
  dogs = await Promise.all(dogFiles.map((f) => readFile(join(DOGS, f))));
  const video = await writeY4m(join(work, 'cats.y4m'), catFiles.slice(0, 6).map((f) => join(CATS, f)), { width: 320, height: 240, fps: 10, framesPerPhoto: 1 });
  graft = await seededGraft([]);
  chrome = await launchChromium({ args: fakeCameraFlags(video) });
});

afterAll(async () => {
  await chrome?.close();
  await graft?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const status = (page: Page) => page.locator('#local-dataset .local-status');

/** Imports `zip` as a visitor does (Import a .zip…) and returns what the status line says once it is done. */
async function importZip(page: Page, name: string, zip: Uint8Array): Promise<{ text: string; kind: string }> {
  const path = join(work, name);
  await writeFile(path, zip);
  await page.locator('#local-dataset input[type=file][accept*=zip]').setInputFiles(path);
  await expect.poll(() => status(page).innerText(), { timeout: 120_000 }).not.toMatch(/^(Importing|$)/);
  return { text: await status(page).innerText(), kind: (await status(page).getAttribute('class')) ?? '' };
}

async function storedClasses(page: Page): Promise<Record<string, number>> {
  const classes = await getAllRecords(page, 'local-classes');
  const samples = await getAllRecords(page, 'local-samples');
  return Object.fromEntries(classes.map((c) => [c.name, samples.filter((s) => s.classId === c.id).length]));
}

it('refuses zip bombs and a zip64 record of 20 million entries by their caps, each named, without freezing the page', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
  const zeros = deflatedZeros(MAX_ZIP_ENTRY_BYTES);
  const bomb = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `bomb/${i}.jpg`, ...zeros }));
  const trace = await traceMainThread(page);

  // 17 entries of zeros, each exactly the per-entry cap (545 MB unpacked from about 550 kB), beside one photo.
  const small = craftZip([stored('cats/a.jpg', cats[0]), ...bomb(17)]);
  expect(small.length).toBeLessThan(1_000_000);
  const read = await importZip(page, 'bomb-17.zip', small);
  expect(read.text).toContain('Added 1 sample.');
  expect(read.text).toContain('17 files skipped: bomb/0.jpg (not a JPEG, PNG, GIF, WebP, BMP or AVIF image)');

  // 62 of them: 2.1 GB unpacked from 2 MB, past the total cap. Refused before anything is unpacked.
  const large = craftZip([stored('dogs/a.jpg', dogs[0]), ...bomb(62)]);
  const total = await importZip(page, 'bomb-62.zip', large);
  expect(total.kind).toContain('error-text');
  expect(total.text).toBe(
    `Nothing was imported: the images in this zip would unpack to ${formatBytes(dogs[0].length + 62 * MAX_ZIP_ENTRY_BYTES)}, ` +
      `and Graft unpacks at most ${formatBytes(MAX_ZIP_IMAGE_BYTES)} from one zip. Split it into smaller zips.`,
  );

  // A 45 kB zip whose zip64 end record declares 20 million entries.
  const declared = craftZip([stored('dogs/b.jpg', dogs[1])], { zip64Entries: 20_000_000 });
  const count = await importZip(page, 'zip64.zip', declared);
  expect(count.kind).toContain('error-text');
  expect(count.text).toBe(
    `Nothing was imported: this zip declares ${formatCount(20_000_000)} entries, and Graft reads at most ${formatCount(MAX_ZIP_ENTRIES)} from one zip. Split it into smaller zips.`,
  );

  expect(busyForLong(await trace.stop())).toEqual([]);
  // The photo beside the first bomb is all that came in: no class of the bombs, none of the refused zips.
  expect(await storedClasses(page)).toEqual({ cats: 1 });
  await page.close();
});

it('lists a name the zip holds twice as skipped and keeps the first', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
  const zip = craftZip([deflated('twice/a.jpg', cats[1]), deflated('twice/a.jpg', cats[2]), deflated('twice/b.jpg', cats[3])]);
  const read = await importZip(page, 'twice.zip', zip);
  expect(read.text).toContain('Added 2 samples.');
  expect(read.text).toContain('1 file skipped: twice/a.jpg (a second entry of this name in the zip: the first one is kept)');
  const samples = await getAllRecords(page, 'local-samples');
  const hashes = new Set(samples.map((s) => s.id));
  const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  expect(hashes.has(sha(cats[2]))).toBe(false);
  expect(hashes.has(sha(cats[1])) && hashes.has(sha(cats[3]))).toBe(true);
  await page.close();
});

/**
 * Leaves the page's origin no room (Chromium's quota override) and waits until IndexedDB refuses a write: Chromium
 * keeps the room it last counted for up to 30 s, so a tiny write to a database of the test's own is tried once a
 * second until it fails.
 */
async function fillStorage(page: Page, cdp: CDPSession): Promise<void> {
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: graft.origin, quotaSize: 1 });
  const refused = () =>
    page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('graft-test-quota-probe', 1);
        request.onupgradeneeded = () => request.result.createObjectStore('probe');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction('probe', 'readwrite');
      tx.objectStore('probe').put(Date.now(), 'now');
      const outcome = await new Promise<string>((resolve) => {
        tx.oncomplete = () => resolve('stored');
        tx.onabort = () => resolve(tx.error?.name ?? 'aborted');
      });
      db.close();
      return outcome === 'QuotaExceededError';
    });
  await expect.poll(refused, { timeout: 90_000, interval: 1000 }).toBe(true);
}

it('says “Browser storage is full” and what was kept when adding photos, recording or importing, and imports whole classes only', async () => {
  const browser = await launchChromium({ args: fakeCameraFlags(join(work, 'cats.y4m')) });
  try {
    const page = await browser.context.newPage();
    await openGraft(page, `${graft.origin}/`);
    await page.getByRole('button', { name: '+ Add a class' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains('class-name-input'))).toBe(true);
    await page.keyboard.type('cats');
    await page.keyboard.press('Tab');
    await expect.poll(() => storedClasses(page)).toEqual({ cats: 0 });
    await page.getByRole('button', { name: 'Turn the camera on' }).click();
    const record = page.locator('#local-dataset .class-card').first().getByRole('button', { name: 'Hold to record' });
    await expect.poll(() => record.isEnabled(), { timeout: 30_000 }).toBe(true);

    const cdp = await browser.context.newCDPSession(page);
    await fillStorage(page, cdp);

    const photos = join(work, 'eight');
    await rm(photos, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(photos));
    await Promise.all(dogs.slice(0, 8).map((bytes, i) => writeFile(join(photos, `dog-${i}.jpg`), bytes)));
    const card = page.locator('#local-dataset .class-card').first();
    await card.locator('input[type=file][webkitdirectory]').setInputFiles(photos);
    await expect.poll(() => status(page).innerText(), { timeout: 60_000 }).toMatch(/^Browser storage is full: /);
    expect(await status(page).innerText()).toMatch(/^Browser storage is full: the 8 samples for “cats” could not be saved; none of them was added\./);
    expect(await storedClasses(page)).toEqual({ cats: 0 });

    // Recording: said at the first frame that does not fit, and the recording stops.
    await status(page).evaluate((el) => (el.textContent = ''));
    await record.hover();
    await page.mouse.down();
    await expect.poll(() => status(page).innerText(), { timeout: 60_000 }).toMatch(/^Browser storage is full: /);
    await expect.poll(() => record.getAttribute('aria-pressed')).toBe('false');
    await page.mouse.up();
    const recorded = (await storedClasses(page)).cats;

    // A zip of two classes, the first small enough to fit, the second (3 MB of noise, kept byte for byte as 256 px
    // JPEGs) far from it: the first is kept whole, the second not begun.
    const noise = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sharp(Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, j) => (j * 7919 + i * 104729) % 251)), { raw: { width: 256, height: 256, channels: 3 } })
          .jpeg({ quality: 100 })
          .toBuffer(),
      ),
    );
    const zip = craftZip([stored('aa/1.jpg', cats[4]), ...noise.map((bytes, i) => stored(`bb/${i}.jpg`, bytes))]);
    // Chromium asks again at once: the room it knew of was used up.
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: graft.origin, quotaSize: usage + 1_000_000 });
    const read = await importZip(page, 'two.zip', zip);
    expect(read.text).toMatch(/^Browser storage is full: the 20 samples for “bb” could not be saved; none of them was added\./);
    expect(read.text).toContain('From this zip, “aa” (1 sample) was imported; “bb” was not.');
    expect(await storedClasses(page)).toEqual({ cats: recorded, aa: 1 });
  } finally {
    await browser.close();
  }
});

it('makes thumbnails for the samples in view only, and reads no other sample’s bytes at the start', async () => {
  const page = await chrome.context.newPage();
  await openGraft(page, `${graft.origin}/`);
  await deleteAllRecords(page, 'local-samples');
  await deleteAllRecords(page, 'local-classes');
  // 3 classes of 1,000 small JPEGs each, written straight into IndexedDB as the page stores them.
  const base = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 40, g: 120, b: 200 } } }).jpeg().toBuffer();
  const samples = Array.from({ length: 3000 }, (_, i) => {
    // A comment segment after SOI makes each file another image id.
    const comment = Buffer.from(`sample ${i}`);
    const segment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, comment.length + 2]), comment]);
    const bytes = Buffer.concat([base.subarray(0, 2), segment, base.subarray(2)]);
    return { id: createHash('sha256').update(bytes).digest('hex'), classIndex: Math.floor(i / 1000), bytes: [...bytes] };
  });
  await within(
    'writing 3,000 samples',
    120_000,
    page.evaluate(async (samples) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('graft');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const tx = db.transaction(['local-classes', 'local-samples'], 'readwrite');
      const ids = ['big-a', 'big-b', 'big-c'];
      ids.forEach((id, i) => tx.objectStore('local-classes').put({ id, name: `class ${'abc'[i]}`, createdAt: i + 1 }));
      samples.forEach((s, i) =>
        tx.objectStore('local-samples').put({ id: s.id, classId: ids[s.classIndex], bytes: new Uint8Array(s.bytes).buffer, type: 'image/jpeg', addedAt: i + 1 }),
      );
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, samples),
  );
  await page.close();

  const back = await chrome.context.newPage();
  // Counts object URLs made, and the bytes of samples read from IndexedDB (each ArrayBuffer once).
  await back.addInitScript(() => {
    const counts = { urls: 0, sampleBytes: 0 };
    (window as unknown as { thumbnailCounts: typeof counts }).thumbnailCounts = counts;
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (object: Blob | MediaSource) => {
      counts.urls++;
      return create(object);
    };
    const seen = new WeakSet<ArrayBuffer>();
    const tally = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(tally);
      else if (value && typeof value === 'object' && (value as { bytes?: unknown }).bytes instanceof ArrayBuffer) {
        const bytes = (value as { bytes: ArrayBuffer }).bytes;
        if (!seen.has(bytes)) counts.sampleBytes += bytes.byteLength;
        seen.add(bytes);
      }
    };
    for (const [proto, field] of [[IDBRequest.prototype, 'result'], [IDBCursorWithValue.prototype, 'value']] as const) {
      const getter = Object.getOwnPropertyDescriptor(proto, field)!.get!;
      Object.defineProperty(proto, field, {
        get() {
          const value = getter.call(this);
          tally(value);
          return value;
        },
      });
    }
  });
  await openGraft(back, `${graft.origin}/`);
  const cards = back.locator('#local-dataset .class-card');
  await expect.poll(() => cards.count(), { timeout: 30_000 }).toBe(3);
  expect(await cards.nth(2).locator('.class-count').innerText()).toBe('1,000 samples');
  // What the page's start and the thumbnails in view made: a few dozen at most, not thousands.
  await expect.poll(() => back.locator('#local-dataset .sample img[src]').count(), { timeout: 30_000 }).toBeGreaterThan(0);
  const atStart = await back.evaluate(() => (window as unknown as { thumbnailCounts: { urls: number; sampleBytes: number } }).thumbnailCounts);
  const shown = await back.locator('#local-dataset .sample img[src]').count();
  console.log(`at the start: ${atStart.urls} object URLs, ${atStart.sampleBytes} bytes of samples read, ${shown} thumbnails shown`);
  expect(atStart.urls).toBeLessThanOrEqual(shown);
  expect(atStart.sampleBytes).toBeLessThanOrEqual(shown * Math.max(...samples.map((s) => s.bytes.length)));
  // The last class's thumbnails come when it is scrolled into view.
  const lastImages = cards.nth(2).locator('.sample img[src]');
  expect(await lastImages.count()).toBe(0);
  await cards.nth(2).locator('.sample-list').scrollIntoViewIfNeeded();
  await expect.poll(() => lastImages.count(), { timeout: 30_000 }).toBeGreaterThan(0);
  await back.close();
});
