/**
 * Plain-data types of a training run, shared by the trainer (in its worker), the IndexedDB stores and the page.
 * Everything here is structured-cloneable: no tensors, no classes.
 */

/** What the page's training run is doing: the session's state, which the controls follow. */
export type RunState = 'idle' | 'extracting' | 'training' | 'paused' | 'done' | 'error';

export const OPTIMIZERS = ['adam', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type Stage = 'head' | 'fine-tune';

export interface TrainSettings {
  /** Seed for the split, the shuffles, dropout and initialisation: same seed + same data = same run. */
  seed: number;
  /**
   * Fractions of each class; test may be 0 (80/20) or 0.1 (80/10/10, seed 004). With `fold`, validation is
   * fold `index` of a stratified `count`-fold partition of what test leaves (the validation fraction is then
   * 1/count and `validation` is ignored).
   */
  split: { validation: number; test: number; fold?: { count: number; index: number } };
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  headEpochs: number;
  /** 0 skips stage 2. */
  fineTuneEpochs: number;
  /** First trainable layer of the base in stage 2: an index into the base's layers or a layer name. */
  fineTuneAt: number | string;
  /** Stage 2 learning rate = learningRate / fineTuneLrDivisor (the seeds use 10). */
  fineTuneLrDivisor: number;
  /**
   * How stage 2's learning rate changes over its steps: 'constant', or 'cosine' (Keras CosineDecay, down to 0 at
   * the stage's last step). Absent: 'constant' (runs saved before this setting existed).
   */
  fineTuneSchedule?: LearningRateSchedule;
  /** Keras's label_smoothing of the training loss in both stages, in [0, 1); absent: 0. */
  labelSmoothing?: number;
  dropout: number;
  /** Seed 000's optional hidden Dense(128, relu) + Dropout(0.5). */
  hiddenUnits: number;
  /** Augmented views per training image (0 = off). */
  augmentViews: number;
  /**
   * What an epoch trains on when there are augmented views: 'one' view of each training image, in turn (image i
   * at view (i + epoch) mod (augmentViews + 1)), so an epoch costs what it costs without augmentation and every view
   * is seen across epochs, as Keras's fresh augmentation each epoch is; or 'all' of them ((augmentViews + 1)x the
   * steps). Absent: 'all' (runs saved before this setting existed trained that way and resume the same).
   */
  viewsPerEpoch?: ViewsPerEpoch;
  /**
   * Weighting of each training sample's loss by its class: 'balanced' gives class k the weight
   * samples / (classes * samples of k) (Keras class_weight, scikit-learn's "balanced"); 'auto' does that only when
   * the largest class has more than twice the training samples of the smallest. Absent: 'none' (runs saved
   * before this setting existed trained that way and resume the same).
   */
  classWeighting?: ClassWeighting;
  /**
   * Stop a stage once its validation loss has not improved for this many epochs (Keras EarlyStopping's patience);
   * 0 or absent: every epoch runs. Either way each stage ends with the weights of its best epoch.
   */
  patience?: number;
}

export const CLASS_WEIGHTINGS = ['auto', 'balanced', 'none'] as const;
export type ClassWeighting = (typeof CLASS_WEIGHTINGS)[number];
export const LEARNING_RATE_SCHEDULES = ['constant', 'cosine'] as const;
export type LearningRateSchedule = (typeof LEARNING_RATE_SCHEDULES)[number];
export const VIEWS_PER_EPOCH = ['one', 'all'] as const;
export type ViewsPerEpoch = (typeof VIEWS_PER_EPOCH)[number];

/** Which split each image belongs to, by image id (content hash). */
export interface SplitAssignment {
  train: string[];
  validation: string[];
  test: string[];
}

export interface EpochRecord {
  /** 0-based across both stages (stage 2 continues from stage 1's count, like Keras initial_epoch). */
  epoch: number;
  stage: Stage;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

export interface History {
  /** Validation loss and accuracy of the untrained head (seed 004's loss0 / accuracy0). */
  initial: { valLoss: number; valAccuracy: number } | null;
  epochs: EpochRecord[];
  /** Epoch index at which fine-tuning started, or null. */
  fineTuneStartEpoch: number | null;
  /**
   * Per stage, the epoch whose weights the stage kept: the one with the lowest validation loss so far. Stage 2's
   * may be an epoch of stage 1 when no fine-tuning epoch beat it (the fine-tuning is then undone). The classifier
   * is the last stage's. Absent in histories saved before best epochs were kept.
   */
  kept?: Partial<Record<Stage, number>>;
  /** Per stage, the epoch after which patience stopped it (absent: it ran every epoch). */
  stoppedEarly?: Partial<Record<Stage, number>>;
}

/** The best epoch of a stage so far and the stage's trainable weights at that epoch. */
export interface BestEpoch {
  epoch: number;
  valLoss: number;
  weights: NamedArray[];
}

/** A weight or optimizer variable as plain data. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Evaluation {
  split: 'validation' | 'test';
  accuracy: number;
  loss: number;
  classes: string[];
  perClassAccuracy: number[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  predictions: { imageId: string; trueClass: number; predictedClass: number; confidence: number }[];
}

/** A run's state after an epoch, as plain data: what a checkpoint holds and what resuming needs. */
export interface TrainingState {
  settings: TrainSettings;
  split: SplitAssignment;
  classes: string[];
  history: History;
  /** Stage of the last completed epoch. */
  stage: Stage;
  /** The next epoch to run (0-based across both stages). */
  epoch: number;
  /** The head's weights, plus in stage 2 the unfrozen base layers' trainable weights; named layer/weight. */
  trainableWeights: NamedArray[];
  /** optimizer.getWeights(): the iteration count ('iter') first, then the slots in trainable-weight order. */
  optimizerWeights: NamedArray[];
  /** The stage's best epoch so far, restored when the stage ends (absent in checkpoints saved before it existed). */
  best?: BestEpoch | null;
}
