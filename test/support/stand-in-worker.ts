/**
 * A Web Worker as the page sees one, in Node: a comlink API behind a MessageChannel, an 'error' event on a crash,
 * and terminate(), after which it answers nothing more (as a browser ends a worker). Tests of the worker policy
 * and of the farm run their own code against it.
 */
import * as Comlink from 'comlink';

/** `Api`: what the worker answers (its functions' parameters are typed from it). */
export class StandInWorker<Api extends object = object> extends EventTarget {
  readonly #channel = new MessageChannel();
  terminated = false;

  constructor(api: Api) {
    super();
    this.#channel.port1.addEventListener('message', (event) => this.dispatchEvent(new MessageEvent('message', { data: (event as MessageEvent).data })));
    this.#channel.port1.start();
    Comlink.expose(api, this.#channel.port2);
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (!this.terminated) this.#channel.port1.postMessage(message, transfer);
  }

  terminate(): void {
    this.terminated = true;
    this.#channel.port1.close();
    this.#channel.port2.close();
  }

  /** The worker's script threw, as a browser reports it. */
  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error', { cancelable: true }), { message }));
  }
}
