/**
 * Byte strings: one UTF-16 code unit 0..255 per byte, the way C code sees a `char *`. Used
 * where bytes must be compared, keyed or printed as text without any decoding (the IPC
 * protocol's tokens, cluster names as map keys, IA5 and Latin-1 certificate strings).
 *
 * @module
 */

/** Bytes to a byte string (one code point 0..255 per byte). */
export function bytesToByteString(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** A byte string back to bytes; code points above 255 are UTF-8 encoded. */
export function byteStringToBytes(text: string): Uint8Array {
  let narrow = true;
  for (let i = 0; i < text.length && narrow; i++) narrow = text.charCodeAt(i) < 256;
  if (!narrow) return new TextEncoder().encode(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
