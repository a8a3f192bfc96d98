/**
 * Number and text formatting, for the views and for the messages the page's logic writes (text/ is what both may
 * import). Pure functions, no DOM, so they are unit-tested in Node. One fixed locale ('en') because all the
 * page's words are English.
 */

const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

/** 1234567 -> "1,234,567". */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** Bytes as "12.3 MB" (decimal units, as browsers and file managers show sizes). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** 0.8734 -> "87.3%"; `digits` decimals. */
export function formatPercent(fraction: number, digits = 1): string {
  if (!Number.isFinite(fraction)) return '–';
  return `${(fraction * 100).toFixed(digits)}%`;
}

/** Seconds as "43 ms", "4.1 s", "45 s", "3 min 20 s", "1 h 05 min"; for ETAs and epoch times. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 0.995) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A rate such as images per second: one decimal below 10, whole numbers above. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return '–';
  return perSecond < 10 ? perSecond.toFixed(1) : formatCount(perSecond);
}

/** Loss values: 4 significant decimals is what Keras prints. */
export function formatLoss(loss: number): string {
  return Number.isFinite(loss) ? loss.toFixed(4) : '–';
}

/** "1 image" / "3 images". */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** Parameter counts as "2,257,984" plus a short "2.26 M" form for headings. */
export function formatParams(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return formatCount(n);
}

/** An error as a visitor should read it (no stack, no "Error:" prefix). */
export function plainMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

/** A size limit set in binary megabytes (8 * 1024 * 1024 bytes), worded as the server words it: "8 MB". */
export function formatLimit(bytes: number): string {
  const megabytes = bytes / (1024 * 1024);
  return `${Number.isInteger(megabytes) ? megabytes : megabytes.toFixed(1)} MB`;
}
