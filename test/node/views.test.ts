/**
 * The page views' pure helpers: what the visitor reads (numbers, messages, the loading code) and what the
 * charts and tables are built from. DOM-free; the DOM components themselves are checked in the browser.
 */
import { describe, expect, it } from 'vitest';
import { augmentationCostText } from '../../client/page/views/augmentation-cost';
import { describeBackend, fallbackNotes } from '../../client/page/text/backend-text';
import { filterPredictions, summariseConfusion } from '../../client/page/views/confusion';
import { enabledControls, runStateText } from '../../client/page/views/controls';
import type { RunState } from '../../shared/training';
import { curveData } from '../../client/page/views/curve-data';
import { loadingSnippet, preprocessingCode } from '../../client/page/views/export-snippet';
import { readClassFolders } from '../../shared/class-folders';
import { folderProblem, folderWarnings } from '../../client/page/views/folder';
import { formatBytes, formatDuration, formatPercent, plural } from '../../client/page/text/format';
import { toRaw, validateSettings, type FormSettings } from '../../client/page/views/settings-rules';
import type { EpochRecord, History } from '../../shared/training';
import type { TfliteSignature } from '../../shared/trainer-messages';
import { checkFailure } from '../../client/tflite/verdict';
import { checkSummary } from '../../client/page/views/tflite-panel';
import { stageLine } from '../../client/page/views/training-progress';

const SETTINGS: FormSettings = {
  workers: 4,
  backend: 'auto',
  inputSize: 224,
  seed: 42,
  split: { validation: 0.2, test: 0 },
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 32,
  headEpochs: 10,
  fineTuneEpochs: 10,
  fineTuneAt: 100,
  fineTuneLrDivisor: 10,
  dropout: 0.2,
  hiddenUnits: 0,
  augmentViews: 2,
  viewsPerEpoch: 'one',
  classWeighting: 'auto',
  patience: 0,
  fineTuneSchedule: 'cosine',
  labelSmoothing: 0.1,
};

describe('format', () => {
  it('writes sizes, shares, durations and counts the way people read them', () => {
    expect(formatBytes(228_800_000)).toBe('229 MB');
    expect(formatBytes(4_570_000)).toBe('4.6 MB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatPercent(0.9219)).toBe('92.2%');
    expect(formatDuration(4.1)).toBe('4.1 s');
    // A head epoch on a small dataset: its time, not "0.0 s".
    expect(formatDuration(0.043)).toBe('43 ms');
    expect(formatDuration(0.96)).toBe('960 ms');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3 h 05 min');
    expect(plural(1, 'image')).toBe('1 image');
    expect(plural(3670, 'image')).toBe('3,670 images');
    expect(plural(2, 'class', 'classes')).toBe('2 classes');
  });
});

describe('folder layout', () => {
  it('refuses an empty folder, loose photos and a single class in plain words, and warns of classes with few images', () => {
    const read = (paths: string[]) => readClassFolders(paths, { imagesOnly: true });
    expect(folderProblem(0, read([]))).toBe('The folder is empty.');
    expect(folderProblem(2, read(['1.jpg', '2.jpg']))).toMatch(/^No photos inside class folders were found/);
    expect(folderProblem(2, read(['daisy/1.jpg', 'daisy/2.jpg']))).toMatch(/Only one class folder \(“daisy”\)/);
    const two = read(['daisy/1.jpg', 'daisy/sub/2.JPEG', 'roses/3.png']);
    expect(folderProblem(3, two)).toBeNull();
    expect(folderWarnings(two)).toEqual([
      '“daisy” has only 2 images: results for it will be unreliable.',
      '“roses” has only 1 image: results for it will be unreliable.',
    ]);
  });
});

describe('settings rules', () => {
  it('round-trips the defaults unchanged', () => {
    expect(validateSettings(toRaw(SETTINGS))).toEqual({ ok: true, settings: SETTINGS });
  });

  it('says what to enter instead for each wrong field', () => {
    const raw = {
      ...toRaw(SETTINGS),
      inputSize: '100',
      workers: '0',
      learningRate: 'fast',
      batchSize: '2.5',
      headEpochs: '',
      fineTuneSchedule: 'step',
      labelSmoothing: '0.9',
      viewsPerEpoch: 'some',
    };
    const result = validateSettings(raw);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({
      inputSize: 'The base halves the image five times, so use a multiple of 32 (e.g. 96).',
      workers: 'Enter a whole number from 1 to 64.',
      learningRate: '“fast” is not a number.',
      batchSize: 'Enter a whole number.',
      headEpochs: 'Enter a number.',
      fineTuneSchedule: 'Choose a schedule.',
      labelSmoothing: 'Enter a number from 0 to 0.5.',
      viewsPerEpoch: 'Choose what each epoch trains on.',
    });
  });

  it('checks fine-tune-from against the base’s layers by number and by name', () => {
    const layerNames = ['input_1', 'Conv1', 'bn_Conv1', 'block_1_expand', 'out_relu'];
    const at = (text: string) => validateSettings({ ...toRaw(SETTINGS), fineTuneAt: text }, { layerNames });
    expect(at('3')).toMatchObject({ ok: true, settings: { fineTuneAt: 3 } });
    expect(at('block_1_expand')).toMatchObject({ ok: true, settings: { fineTuneAt: 'block_1_expand' } });
    expect(at('5')).toMatchObject({ ok: false, errors: { fineTuneAt: 'Enter a layer number from 2 to 4, or a layer name.' } });
    expect(at('block_99')).toMatchObject({ ok: false, errors: { fineTuneAt: 'This model has no layer named “block_99”.' } });
  });

  it('keeps enough of each class to train on', () => {
    const result = validateSettings({ ...toRaw(SETTINGS), validationSplit: '0.4', testSplit: '0.3' });
    expect(result).toMatchObject({ ok: false, errors: { testSplit: expect.stringMatching(/at most 0.6/) } });
  });
});

describe('augmentation cost', () => {
  it('says how much longer extraction and each fine-tune epoch take before the run starts', () => {
    // 80% of the photos train: 4 more views of each is 1 + 4 x 0.8 = 4.2 times the forward passes.
    expect(augmentationCostText(4, 0.8, 5, 'all')).toBe('4 views: about 4.2x the extraction time of none, and 5x the time of each fine-tune epoch.');
    expect(augmentationCostText(1, 0.8, 0, 'all')).toBe('1 view: about 1.8x the extraction time of none.');
    expect(augmentationCostText(1, 0.8, 5, 'one')).toBe('1 view: about 1.8x the extraction time of none; epochs take as long as without.');
    expect(augmentationCostText(0, 0.8, 5, 'one')).toBe('No augmented views: each photo goes through the base once.');
  });
});

describe('controls', () => {
  it('enables only the buttons that make sense in each state', () => {
    const enabled = (state: RunState) =>
      Object.entries(enabledControls(state))
        .filter(([, on]) => on)
        .map(([name]) => name);
    expect(enabled('idle')).toEqual(['start']);
    expect(enabled('extracting')).toEqual(['pause', 'cancel']);
    expect(enabled('training')).toEqual(['pause', 'cancel']);
    expect(enabled('paused')).toEqual(['resume', 'cancel']);
    expect(enabled('done')).toEqual(['start']);
    expect(enabled('error')).toEqual(['start']);
  });

  it('never says “Ready to start.” while Start is off: it says what is missing instead', () => {
    expect(runStateText('idle', null)).toEqual({ status: 'Ready to start.', blocked: '' });
    expect(runStateText('idle', 'Choose a dataset first.')).toEqual({ status: 'Choose a dataset first.', blocked: '' });
    // After a run, what happened stays the state; what blocks the next run is said beside it.
    expect(runStateText('done', 'Choose a dataset first.')).toEqual({ status: 'Done.', blocked: 'Choose a dataset first.' });
    expect(runStateText('training', 'Choose a dataset first.')).toEqual({ status: 'Training…', blocked: '' });
  });
});

describe('training progress', () => {
  it('counts the stages the run has: a run without fine-tuning is not “Stage 1 of 2”', () => {
    expect(stageLine({ stage: 'head', fineTuneEpochs: 0 })).toBe('Stage 1 of 1: training the new head (the base is frozen)');
    expect(stageLine({ stage: 'head', fineTuneEpochs: 6 })).toBe('Stage 1 of 2: training the new head (the base is frozen)');
    expect(stageLine({ stage: 'fine-tune', fineTuneEpochs: 6, fineTuneAtName: 'block_11_expand' })).toBe('Stage 2 of 2: fine-tuning the top of the base from block_11_expand');
  });
});

describe('backend notes', () => {
  const wasm = { backend: 'wasm' as const, simd: true, threads: 4, notes: ['no WebGPU adapter'] };
  it('describes what runs and why the preferred backend was not used', () => {
    expect(describeBackend(wasm)).toBe('WASM · SIMD · 4 threads');
    expect(describeBackend({ ...wasm, simd: false, threads: 1 })).toBe('WASM · no SIMD · 1 thread');
    expect(fallbackNotes([{ id: 1, report: wasm }, { id: 2, report: wasm }, { id: 3, report: null }])).toEqual(['No WebGPU adapter: running on TF.js WASM.']);
  });

  it('says when the forward pass runs on LiteRT.js, and when LiteRT.js was not used and why', () => {
    const liteRt = { ...wasm, threads: 1, notes: [], liteRt: { accelerator: 'wasm' as const, build: 'relaxed-simd' as const, threads: 1, batch: 1 } };
    expect(describeBackend(liteRt)).toBe('LiteRT.js WASM · relaxed SIMD · 1 thread');
    expect(describeBackend({ ...liteRt, liteRt: { ...liteRt.liteRt, accelerator: 'webgpu' } })).toBe('LiteRT.js WebGPU');
    const failed = { ...wasm, threads: 1, notes: ['LiteRT.js did not load: Failed to fetch'] };
    expect(fallbackNotes([{ id: 0, report: liteRt }, { id: 1, report: failed }])).toEqual(['LiteRT.js did not load: Failed to fetch: running on TF.js WASM (worker 1).']);
  });

  it('names the workers a note applies to when it is not all of them', () => {
    const webgpu = { backend: 'webgpu' as const, simd: false, threads: 1, notes: [] };
    expect(fallbackNotes([{ id: 1, report: webgpu }, { id: 2, report: wasm }])).toEqual(['No WebGPU adapter: running on TF.js WASM (worker 2).']);
  });
});

describe('learning-curve data', () => {
  const epoch = (e: number, stage: EpochRecord['stage']): EpochRecord => ({ epoch: e, stage, loss: 1 / (e + 1), accuracy: 0.5 + e / 40, valLoss: 1.1 / (e + 1), valAccuracy: 0.5 + e / 4, seconds: 2 });

  it('puts the untrained head at 0, one point per epoch after it, and fine-tuning where stage 1 ended', () => {
    const history: History = { initial: { valLoss: 1.8, valAccuracy: 0.2 }, epochs: [epoch(2, 'fine-tune'), epoch(0, 'head'), epoch(1, 'head')], fineTuneStartEpoch: 2 };
    const data = curveData(history);
    expect(data.x).toEqual([0, 1, 2, 3]);
    expect(data.valAccuracy).toEqual([0.2, 0.5, 0.75, 1]);
    expect(data.accuracy[0]).toBeNull();
    expect(data.fineTuneX).toBe(2);
  });

  it("marks the epoch the classifier keeps: the last stage's, which may lie in stage 1 when fine-tuning was undone", () => {
    const base: History = { initial: null, epochs: [epoch(0, 'head'), epoch(1, 'head'), epoch(2, 'fine-tune')], fineTuneStartEpoch: 2 };
    expect(curveData(base).keptX).toBeNull();
    expect(curveData({ ...base, kept: { head: 0 } }).keptX).toBe(1);
    expect(curveData({ ...base, kept: { head: 0, 'fine-tune': 2 } }).keptX).toBe(3);
    expect(curveData({ ...base, kept: { head: 1, 'fine-tune': 1 } }).keptX).toBe(2);
  });

  it('gives nothing to plot for an empty history and a gap for a diverged epoch', () => {
    expect(curveData({ initial: null, epochs: [], fineTuneStartEpoch: null }).x).toEqual([]);
    const diverged = curveData({ initial: null, epochs: [{ ...epoch(0, 'head'), loss: Number.NaN }], fineTuneStartEpoch: null });
    expect(diverged.loss).toEqual([null]);
  });
});

describe('confusion matrix', () => {
  const confusion = [
    [8, 2, 0],
    [1, 9, 0],
    [0, 0, 0],
  ];

  it('totals rows and columns to the number of evaluated images', () => {
    const s = summariseConfusion(confusion);
    expect(s.rowTotals).toEqual([10, 10, 0]);
    expect(s.columnTotals).toEqual([9, 11, 0]);
    expect(s.total).toBe(20);
    expect(s.correct).toBe(17);
    expect(s.rowFractions[0]).toEqual([0.8, 0.2, 0]);
    expect(s.rowFractions[2]).toEqual([0, 0, 0]);
  });

  it('rejects a matrix that is not square', () => {
    expect(() => summariseConfusion([[1, 2], [3]])).toThrow(/square/);
  });

  it('shows wrong predictions only, the most confident mistakes first', () => {
    const predictions = [
      { imageId: 'a', trueClass: 0, predictedClass: 0, confidence: 0.9 },
      { imageId: 'b', trueClass: 0, predictedClass: 1, confidence: 0.6 },
      { imageId: 'c', trueClass: 1, predictedClass: 0, confidence: 0.8 },
    ];
    expect(filterPredictions(predictions, 'wrong').map((p) => p.imageId)).toEqual(['c', 'b']);
    expect(filterPredictions(predictions, 'all')).toHaveLength(3);
  });
});

describe('export snippet', () => {
  it('writes MobileNet preprocessing as x/127.5 - 1 and other scales as they are', () => {
    expect(preprocessingCode({ scale: 1 / 127.5, offset: -1 })).toBe('.div(127.5).sub(1)');
    expect(preprocessingCode({ scale: 1 / 255, offset: 0 })).toBe('.div(255)');
    expect(preprocessingCode({ scale: 0.017, offset: 0.5 })).toBe('.mul(0.017).add(0.5)');
  });

  it('fills in the class names and the input size', () => {
    const code = loadingSnippet({ classes: ['daisy', 'roses'], inputSize: 160, preprocessing: { scale: 1 / 127.5, offset: -1 } });
    expect(code).toContain(`const classNames = ["daisy","roses"];`);
    expect(code).toContain(`tf.loadLayersModel('model.json')`);
    expect(code).toContain('[160, 160]');
    expect(code).toContain('resized.div(127.5).sub(1).expandDims(0)');
  });
});

describe('the TFLite check the page shows beside each download', () => {
  const signature: TfliteSignature = {
    input: { shape: [1, 224, 224, 3], type: 'uint8', quantization: { scale: 1 / 127.5, zeroPoint: 128 } },
    output: { shape: [1, 3], type: 'float32' },
  };
  const passed = { accuracy: 0.9, agreement: 0.95, msPerImage: 12.34, input: { dtype: 'uint8', shape: [1, 224, 224, 3] }, output: { dtype: 'float32', shape: [1, 3] } };

  it('offers a file that reads what its README says and is about as accurate as the TF.js model', () => {
    expect(checkFailure(passed, signature, 3, 0.92, 100)).toBeNull();
    const shown = checkSummary({ kind: 'int8', signature, fileBytes: 518_718, check: passed, tfjsMsPerImage: 20, zip: new Uint8Array(1), failure: null });
    expect(shown).toBe('519 kB · accuracy 90.0% · agrees with TF.js 95.0% · 12.3 ms/image');
  });

  it('on a small held-out set, a file two images worse is still offered; three images worse is not', () => {
    // 18 held-out images: one image is 5.6 points.
    expect(checkFailure({ ...passed, accuracy: 15 / 18 }, signature, 3, 17 / 18, 18)).toBeNull();
    expect(checkFailure({ ...passed, accuracy: 14 / 18 }, signature, 3, 17 / 18, 18)).toMatch(/^its accuracy on the held-out images \(77\.8%\)/);
  });

  it('does not offer a file with another input, another output size, or a real loss of accuracy, and says why', () => {
    expect(checkFailure({ ...passed, input: { dtype: 'float32', shape: [1, 224, 224, 3] } }, signature, 3, 0.9, 100)).toBe(
      'LiteRT reads a float32 [1,224,224,3] input, the README says uint8 [1,224,224,3]',
    );
    expect(checkFailure({ ...passed, output: { dtype: 'float32', shape: [1, 1] } }, signature, 3, 0.9, 100)).toBe(
      'LiteRT gives a float32 [1,1] output for 3 labels',
    );
    const failure = checkFailure({ ...passed, accuracy: 0.8 }, signature, 3, 0.9, 100);
    expect(failure).toBe("its accuracy on the held-out images (80.0%) is more than 5 points below the TF.js model's (90.0%)");
    const shown = checkSummary({ kind: 'int8', signature, fileBytes: 518_718, check: { ...passed, accuracy: 0.8 }, tfjsMsPerImage: 20, zip: null, failure });
    expect(shown).toMatch(/· not offered: its accuracy on the held-out images \(80\.0%\)/);
    expect(checkSummary({ kind: 'int8', signature, fileBytes: 1000, check: null, tfjsMsPerImage: 20, zip: null, failure: 'LiteRT.js could not run it: x' })).toBe(
      '1.0 kB · not offered: LiteRT.js could not run it: x',
    );
  });
});
