/**
 * What augmented views cost, said before a run starts: each training photo goes through the base once per view
 * (validation and test photos once); an epoch that trains on every view also takes (views + 1)x as long, one that
 * trains on one view of each photo as long as without.
 */
import type { ViewsPerEpoch } from '../../../shared/training';
import { plural } from '../text/format';

/** Extraction time of `views` augmented views relative to none, when `trainShare` of the photos train. */
export function extractionFactor(views: number, trainShare: number): number {
  return 1 + views * trainShare;
}

/** e.g. "4 views: about 4.2x the extraction time of none, and 5x the time of each fine-tune epoch." */
export function augmentationCostText(views: number, trainShare: number, fineTuneEpochs: number, viewsPerEpoch: ViewsPerEpoch): string {
  if (views === 0) return 'No augmented views: each photo goes through the base once.';
  const factor = extractionFactor(views, trainShare);
  const extraction = `about ${Number(factor.toFixed(1))}x the extraction time of none`;
  if (viewsPerEpoch === 'one') return `${plural(views, 'view')}: ${extraction}; epochs take as long as without.`;
  const fineTune = fineTuneEpochs > 0 ? `, and ${views + 1}x the time of each fine-tune epoch` : '';
  return `${plural(views, 'view')}: ${extraction}${fineTune}.`;
}
