/** sha256 as lowercase hex: the name of every stored image, shard and weight file. */
import { createHash } from 'node:crypto';

export function sha256Hex(...parts: Uint8Array[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}
