/**
 * PEM blocks out of a text that may hold other text around them (`qnetd-cacert.crt` starts
 * with a text dump; `openssl pkcs12` writes "Bag Attributes"): each `-----BEGIN X-----` ..
 * `-----END X-----` block, its label and its DER bytes, in file order.
 *
 * @module
 */

/** One PEM block: `label` is the X of `-----BEGIN X-----`. */
export interface PemBlock {
  readonly label: string;
  readonly der: Uint8Array<ArrayBuffer>;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every well-formed PEM block of `text`; a block whose body is not base64 is left out. */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const body = match[2]!;
    // Headers such as "Proc-Type:" (encrypted PEM) make the body non-base64: left out.
    if (body.includes(":")) continue;
    try {
      blocks.push({ label: match[1]!, der: Uint8Array.fromBase64(body.replace(/\s+/g, "")) });
    } catch {
      // Not base64: not a block we can use.
    }
  }
  return blocks;
}
