/**
 * The name of a zip entry from its raw bytes and its general purpose flags. Bit 11 set: UTF-8 (APPNOTE 6.3,
 * appendix D). Not set: the specification says IBM code page 437, which Windows' own zip and older tools write,
 * but Info-ZIP's zip on Linux and macOS writes the file system's UTF-8 bytes without setting the flag; so bytes
 * that are valid UTF-8 are read as UTF-8, anything else as CP437. (fflate reads unflagged names as Latin-1:
 * Info-ZIP's "café/" became "cafÃ©/".) Pure: the page's zip import calls it with each central directory entry.
 */

/** Bit 11 of the general purpose flags: the name and comment are UTF-8. */
export const ZIP_UTF8_FLAG = 0x800;

/** Code page 437, bytes 0x80–0xFF (0x00–0x7F are ASCII in names). */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

export function cp437(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += byte < 0x80 ? String.fromCharCode(byte) : CP437_HIGH[byte - 0x80];
  return text;
}

export function zipEntryName(raw: Uint8Array, flags: number): string {
  if (flags & ZIP_UTF8_FLAG) return lenientUtf8.decode(raw);
  try {
    return strictUtf8.decode(raw);
  } catch {
    return cp437(raw);
  }
}
