/**
 * A fine-tuning helper: a worker the trainer starts (helper-pool.ts) to compute part of every stage-2 batch and
 * validation pass. It holds a replica of stage 2's model on its own backend and reads its part of the cut
 * activations from the cache itself, so only weights and gradients cross between the workers. It keeps no state
 * worth saving: the weights come with every request, so a replaced helper picks up where the dead one was.
 */
import * as Comlink from 'comlink';
import type { BackendChoice, BackendReport, ModelArtifactsData } from '../../../shared/farm';
import type { ModelRecord } from '../../../shared/records';
import type { FineTuneHelperInit } from '../../../shared/trainer-messages';
import { selectBackend } from '../../engine/backend';
import { loadBaseModel } from '../../engine/base-model';
import { classWeights } from '../class-weights';
import { buildReplicaModel } from '../cut-model';
import { Replica, type GradientRequest, type PartGradients, type ValidationRequest } from '../data-parallel';
import { splitSamples } from '../sources';
import { profileStageTwoStep, type StageTwoProfileOptions, type StepProfile } from '../step-profile';
import { registerWasmBackpropKernels } from '../wasm-backprop-kernels';
import { streamFromCache } from './cached-source';
import { toArtifacts } from './artifacts';

let replica: Promise<{ replica: Replica; report: BackendReport }> | null = null;

async function ready(): Promise<Replica> {
  if (!replica) throw new Error('the fine-tuning helper was not initialised');
  return (await replica).replica;
}

const api = {
  init(init: FineTuneHelperInit): Promise<BackendReport> {
    replica ??= (async () => {
      registerWasmBackpropKernels();
      const report = await selectBackend(init.backend, init.threads);
      const { settings, classes } = init;
      const base = await loadBaseModel(toArtifacts(init.artifacts), { bottleneck: init.record.bottleneck, inputSize: init.inputSize });
      const samples = splitSamples(init.split, settings.augmentViews);
      const labelOf = (id: string) => init.labels[id];
      const train = streamFromCache(init.cutKey, samples.train, labelOf, init.augmentation);
      const validation = streamFromCache(init.cutKey, samples.validation, labelOf, init.augmentation);
      const model = buildReplicaModel(base, classes.length, settings);
      return {
        report,
        replica: new Replica(model, { train, validation }, {
          seed: settings.seed,
          classCount: classes.length,
          classWeights: classWeights(train.labels, classes.length, settings.classWeighting),
          labelSmoothing: settings.labelSmoothing ?? 0,
        }),
      };
    })();
    return replica.then((r) => r.report);
  },

  async gradients(request: GradientRequest): Promise<PartGradients> {
    const part = await (await ready()).gradients(request);
    return Comlink.transfer(part, part.gradients.map((g) => g.buffer as ArrayBuffer));
  },

  async probabilities(request: ValidationRequest): Promise<Float32Array> {
    const probabilities = await (await ready()).probabilities(request);
    return Comlink.transfer(probabilities, [probabilities.buffer as ArrayBuffer]);
  },

  /**
   * For `npm run bench`, in a worker of its own (not one init() started): one worker's stage-2 step profiled per
   * kernel (step-profile.ts) on this worker's backend, with a base of its own.
   */
  async profileStep(request: StepProfileRequest): Promise<StepProfile & { report: BackendReport }> {
    registerWasmBackpropKernels();
    const report = await selectBackend(request.backend, request.threads);
    const base = await loadBaseModel(toArtifacts(request.artifacts), { bottleneck: request.record.bottleneck, inputSize: request.inputSize });
    return { ...(await profileStageTwoStep(base, request.options)), report };
  },
};

export interface StepProfileRequest {
  backend: BackendChoice;
  threads: number;
  artifacts: ModelArtifactsData;
  record: Pick<ModelRecord, 'bottleneck'>;
  inputSize: number;
  options: StageTwoProfileOptions;
}

export type FineTuneHelperApi = typeof api;
Comlink.expose(api);
