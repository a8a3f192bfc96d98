/**
 * How much of a zip the page reads, checked from its central directory before anything is unpacked: the entries
 * it lists, each image unpacked, and all of its images unpacked together. Enough for a dataset of thousands of
 * phone photos; a zip past them is refused (or, for one entry, that entry skipped) with the cap named.
 */

/** Entries (files and folders) a zip may list. */
export const MAX_ZIP_ENTRIES = 20_000;

/** Largest an image may be unpacked (a 48 MP phone photo is 10 to 20 MB; a 256 px JPEG about 20 kB). */
export const MAX_ZIP_ENTRY_BYTES = 32_000_000;

/** Most bytes the images of one zip may unpack to, all together. */
export const MAX_ZIP_IMAGE_BYTES = 1_000_000_000;
