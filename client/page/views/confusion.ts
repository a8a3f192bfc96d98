/**
 * Confusion-matrix arithmetic for the results table: row/column totals, each cell's share of its row (what the
 * shading shows), and which prediction filter keeps what. Pure, no DOM.
 */

export interface ConfusionSummary {
  /** Images per true class. */
  rowTotals: number[];
  /** Images per predicted class. */
  columnTotals: number[];
  /** All evaluated images: the sum of every cell. */
  total: number;
  /** The diagonal's sum. */
  correct: number;
  /** cell / its row's total (0 for an empty row). */
  rowFractions: number[][];
}

export function summariseConfusion(confusion: readonly (readonly number[])[]): ConfusionSummary {
  const size = confusion.length;
  for (const row of confusion) {
    if (row.length !== size) throw new Error(`confusion matrix must be square, got a row of ${row.length} in a ${size}-class matrix`);
  }
  const rowTotals = confusion.map((row) => row.reduce((sum, n) => sum + n, 0));
  const columnTotals = Array.from({ length: size }, (_, c) => confusion.reduce((sum, row) => sum + row[c], 0));
  return {
    rowTotals,
    columnTotals,
    total: rowTotals.reduce((sum, n) => sum + n, 0),
    correct: confusion.reduce((sum, row, i) => sum + row[i], 0),
    rowFractions: confusion.map((row, i) => row.map((n) => (rowTotals[i] ? n / rowTotals[i] : 0))),
  };
}

export type GalleryFilter = 'all' | 'wrong';

/** The predictions a gallery filter shows, wrong ones first by confidence when filtering (worst mistakes first). */
export function filterPredictions<P extends { trueClass: number; predictedClass: number; confidence: number }>(
  predictions: readonly P[],
  filter: GalleryFilter,
): P[] {
  if (filter === 'all') return [...predictions];
  return predictions.filter((p) => p.trueClass !== p.predictedClass).sort((a, b) => b.confidence - a.confidence);
}
