/**
 * The base model and the demo dataset this repository carries in defaults/ (what they are, their licences and
 * how the photos were chosen: defaults/README.md). A seed given no --model stores this base model, one given no
 * source at all stores the demo dataset too, and `npm start` seeds both into a new local state (new-state.ts).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULTS_DIR = fileURLToPath(new URL('../../defaults', import.meta.url));

/** MobileNetV2 0.35 at 224 px without its top, a TF.js layers model (Apache-2.0: its NOTICE.txt and LICENSE.txt). */
export const DEFAULT_MODEL_DIR = join(DEFAULTS_DIR, 'mobilenet_v2_0.35_224_no_top');

/** 200 flower photos in 5 class folders (CC-BY 2.0: one attribution line each in flowers-demo-ATTRIBUTION.txt). */
export const DEMO_DATASET_DIR = join(DEFAULTS_DIR, 'flowers-demo');
