/**
 * The header's runtime line: whether the page is cross-origin isolated (WASM threads need it), which TF.js backend
 * training runs on (the farm's engine per worker is in the workers table), and which engine classifies photos and
 * Live's frames (and why, when it is not LiteRT.js).
 */
import type { BackendReport } from '../../../shared/farm';
import { describeBackend } from '../text/backend-text';
import { h, replace } from './dom';

export interface RuntimeStatus {
  update(status: { crossOriginIsolated: boolean; backend: BackendReport | null; workers?: number }): void;
  /** Which engine classifies (a LiteRT.js one is 'ok'), in words; null: no classifier yet. */
  setClassifier(engine: { ok: boolean; text: string } | null): void;
}

export function mountRuntimeStatus(el: HTMLElement): RuntimeStatus {
  const classifier = h('li', { class: 'runtime-classifier', hidden: true });
  const update: RuntimeStatus['update'] = ({ crossOriginIsolated, backend, workers }) => {
    replace(
      el,
      h('ul', { class: 'runtime', attrs: { 'aria-label': 'Runtime' } },
        h(
          'li',
          { class: crossOriginIsolated ? 'ok' : 'warn', title: crossOriginIsolated ? 'WASM can use several threads.' : 'WASM runs on one thread per worker.' },
          h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
          crossOriginIsolated ? 'Cross-origin isolated' : 'Not cross-origin isolated',
        ),
        h(
          'li',
          { class: backend ? 'ok' : '' },
          h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }),
          backend ? `Training: TF.js ${describeBackend(backend)}` : 'Training: not started',
          workers ? ` · ${workers} ${workers === 1 ? 'worker' : 'workers'}` : '',
        ),
        classifier,
      ),
    );
  };
  update({ crossOriginIsolated: globalThis.crossOriginIsolated === true, backend: null });
  return {
    update,
    setClassifier(engine) {
      classifier.hidden = engine === null;
      classifier.className = `runtime-classifier ${engine?.ok ? 'ok' : ''}`.trim();
      replace(classifier, h('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } }), engine ? `Classify & Live: ${engine.text}` : '');
    },
  };
}
