/**
 * The serial-number counter `serial.txt`, with the semantics of get_serial_no() in
 * corosync-qnetd-certutil.sh: a decimal number, 100 when the file does not exist yet, and each
 * use pre-increments it (so the CA gets 101, the server 102, the first cluster 103).
 *
 * @module
 */
import { SerialFileError } from "./errors.ts";

/** The counter's value before the first certificate is made (the C script writes `100`). */
export const INITIAL_SERIAL = 100n;

/**
 * Reads the counter from the text of `serial.txt`; `undefined` (no file) gives 100.
 * Stricter than the C script, whose shell arithmetic turns garbage into 0: anything but one
 * decimal number is an error, so that a damaged file never hands out a serial twice.
 */
export function parseSerial(text: string | undefined): bigint {
  if (text === undefined) return INITIAL_SERIAL;
  const trimmed = text.trim();
  if (!/^[0-9]+$/.test(trimmed)) {
    throw new SerialFileError(
      `Cannot read serial number "${trimmed.slice(0, 40)}": not a decimal number`,
    );
  }
  return BigInt(trimmed);
}

/** The next serial number: the counter plus one (the C script's pre-increment). */
export function nextSerial(current: bigint): bigint {
  return current + 1n;
}

/** The text written back to `serial.txt` (decimal and a newline, as `echo` writes it). */
export function formatSerial(serial: bigint): string {
  return `${serial}\n`;
}

/** A serial number as the hex string @peculiar/x509 expects (even length, big-endian). */
export function serialToHex(serial: bigint): string {
  if (serial <= 0n) throw new RangeError(`Cannot use serial number ${serial}: it must be positive`);
  const hex = serial.toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** A certificate's serial number (hex, as @peculiar/x509 gives it) as a number. */
export function serialFromHex(hex: string): bigint {
  return hex === "" ? 0n : BigInt(`0x${hex}`);
}
