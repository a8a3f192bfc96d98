/**
 * Run as a child process (`npx tsx test/support/prepare-image-peak.ts <file> <max-side>`): prepares one image the
 * way ingest does and prints, as JSON, how far that raised the process's peak memory (maxRSS, bytes) and the result.
 * A process of its own, so nothing else a test did counts in its peak.
 */
import { readFile } from 'node:fs/promises';
import { prepareImage } from '../../tools/ingest/images';

const [file, maxSide] = process.argv.slice(2);
const bytes = await readFile(file!);
const before = process.resourceUsage().maxRSS;
const result = await prepareImage(bytes, Number(maxSide));
const peakGrowth = (process.resourceUsage().maxRSS - before) * 1024;
console.log(JSON.stringify({ peakGrowth, ok: result.ok, reason: result.ok ? result.reencoded : result.reason }));
