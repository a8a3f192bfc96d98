/**
 * What an image file's header declares, as image-header.ts reads it (and avif-header.ts for AVIF): its own
 * module, so the two readers share it without importing each other.
 */
export interface ImageHeader {
  format: 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'avif';
  /** As displayed, after the file's orientation is applied (a GIF's screen as decoders enlarge it to its first frame). */
  width: number;
  height: number;
  /**
   * The largest frame (by area) of a GIF, or tile of an AVIF grid: decoders decode each whole, whatever size the
   * picture they make up has.
   */
  largestFrame?: { width: number; height: number };
  /**
   * Why the size could not be checked in full (a GIF of more blocks than are walked, an AVIF whose main image has
   * no size): such a file is refused.
   */
  unchecked?: string;
}
