/** The model card a finished run publishes (shared/model-card.ts): built from the run's history and evaluation. */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { cardProblems, modelCardOf, ModelCardSchema, type ModelCardSource } from '../../shared/model-card';
import type { EpochRecord, History } from '../../shared/training';

const epoch = (n: number, stage: EpochRecord['stage'], valAccuracy: number): EpochRecord => ({
  epoch: n,
  stage,
  loss: 0.5,
  accuracy: 0.8,
  valLoss: 1 - valAccuracy,
  valAccuracy,
  seconds: 3,
});

const source = (history: History): ModelCardSource => ({
  classes: ['daisy', 'roses', 'tulips'],
  base: { id: 'mobilenet_v2_0.35_224_no_top', name: 'MobileNetV2 0.35', inputSize: 224, preprocessing: { scale: 1 / 127.5, offset: -1 } },
  dataset: { name: 'Flowers', imageCounts: [633, 641, 799] },
  history,
  evaluation: {
    split: 'validation',
    accuracy: 0.9,
    loss: 0.3,
    classes: ['daisy', 'roses', 'tulips'],
    // tulips had no held-out image: 0 / 0.
    perClassAccuracy: [0.95, 0.85, NaN],
    confusion: [[19, 1, 0], [3, 17, 0], [0, 0, 0]],
    predictions: [],
  },
  trainedAt: new Date('2026-05-01T10:00:00Z'),
  graftVersion: '0.1.0',
});

describe('modelCardOf', () => {
  it("gives each stage the validation accuracy of the epoch it kept, and null for a class with no held-out image", () => {
    const history: History = {
      initial: null,
      epochs: [epoch(0, 'head', 0.7), epoch(1, 'head', 0.86), epoch(2, 'head', 0.84), epoch(3, 'fine-tune', 0.9), epoch(4, 'fine-tune', 0.88)],
      fineTuneStartEpoch: 3,
      kept: { head: 1, 'fine-tune': 3 },
    };
    const card = modelCardOf(source(history));
    expect(card.stages).toEqual([
      { stage: 'head', epochs: 3, valAccuracy: 0.86 },
      { stage: 'fine-tune', epochs: 2, valAccuracy: 0.9 },
    ]);
    expect(card.evaluation.perClassAccuracy).toEqual([0.95, 0.85, null]);
    expect(card.trainedAt).toBe('2026-05-01T10:00:00.000Z');
    // What the server will check: the schema and the lengths against the classes.
    expect(v.safeParse(ModelCardSchema, JSON.parse(JSON.stringify(card))).success).toBe(true);
    expect(cardProblems(card)).toEqual([]);
  });

  it('takes the last epoch of a stage in a history saved before best epochs were kept, and leaves out a stage that did not run', () => {
    const card = modelCardOf(source({ initial: null, epochs: [epoch(0, 'head', 0.7), epoch(1, 'head', 0.8)], fineTuneStartEpoch: null }));
    expect(card.stages).toEqual([{ stage: 'head', epochs: 2, valAccuracy: 0.8 }]);
  });

  it('names what does not match the classes', () => {
    const card = modelCardOf(source({ initial: null, epochs: [epoch(0, 'head', 0.7)], fineTuneStartEpoch: null }));
    card.dataset.imageCounts.pop();
    card.evaluation.confusion[2]!.push(4);
    expect(cardProblems(card)).toEqual([
      'card.dataset.imageCounts: has 2 counts for 3 classes',
      'card.evaluation.confusion: must be 3 rows of 3 counts',
    ]);
  });
});
