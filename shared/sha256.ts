/**
 * sha256 as lowercase hex: the id of every stored image, and the name of every shard and weight file. WebCrypto,
 * which the page, its workers, Node (the seed, the tests) and workerd all have.
 */
export async function sha256Hex(data: ArrayBuffer | ArrayBufferView | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  // Node's Buffer may view a SharedArrayBuffer as far as the types know; digest copies whatever it is given.
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
