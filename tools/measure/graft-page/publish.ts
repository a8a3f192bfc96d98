/** A publication of the measure session's classifier, made in the page as a visitor makes one. */
import type { Page } from 'playwright-core';
import type { TfliteKind } from '../../../shared/trainer-messages';
import type { PageClassifier } from '../../../client/page/classifier';
import type { Publisher } from '../../../client/page/publisher';
import type { MeasureWindow } from './measure-window';

export interface PublishRun {
  id: string;
  url: string;
  /** Bytes of its files, as the server counted them. */
  bytes: number;
  /** The kind of file its classify page runs. */
  runs: TfliteKind;
  /** Requests to the API the publish made: the publications API's, and any dataset shard it read. */
  requests: number;
}

/**
 * Publishes the measure session's classifier as a visitor does from the page: the page's own Publisher class
 * (window.graft.publisher's) builds and checks both TFLite files, makes the card and uploads, without a token.
 */
export function publishRun(page: Page, args: { name: string; description: string }): Promise<PublishRun> {
  return page.evaluate(async ({ name, description }) => {
    const w = window as unknown as MeasureWindow;
    const PublisherClass = w.graft.publisher.constructor as new (source: PageClassifier) => Publisher;
    const { session, classifier } = w.measure;
    const storageRequests = session.requests;
    const published = await new PublisherClass(classifier).publish({ name, description, examples: false, adminToken: null });
    return { id: published.id, url: published.url, bytes: published.bytes, runs: published.runs, requests: published.requests + session.requests - storageRequests };
  }, args);
}
