import assert from "node:assert/strict";
import {
  formatSerial,
  INITIAL_SERIAL,
  nextSerial,
  parseSerial,
  serialFromHex,
  serialToHex,
} from "../../core/certs/serial.ts";
import { SerialFileError } from "../../core/certs/errors.ts";

Deno.test("parseSerial() starts at 100 when serial.txt does not exist", () => {
  assert.equal(parseSerial(undefined), INITIAL_SERIAL);
  assert.equal(INITIAL_SERIAL, 100n);
});

Deno.test("parseSerial() reads the decimal number echo wrote", () => {
  assert.equal(parseSerial("103\n"), 103n);
  assert.equal(parseSerial(" 7 "), 7n);
});

Deno.test("parseSerial() rejects anything but one decimal number", () => {
  for (const bad of ["", "\n", "abc", "0x10", "-5", "1 2", "12a"]) {
    assert.throws(() => parseSerial(bad), SerialFileError, `input ${JSON.stringify(bad)}`);
  }
});

Deno.test("nextSerial() pre-increments: CA 101, server 102, first cluster 103", () => {
  const ca = nextSerial(parseSerial(undefined));
  const server = nextSerial(ca);
  assert.deepEqual([ca, server, nextSerial(server)], [101n, 102n, 103n]);
});

Deno.test("formatSerial() writes decimal and a newline and parseSerial() reads it back", () => {
  for (const n of [1n, 100n, 65535n, 2n ** 70n]) {
    assert.equal(formatSerial(n), `${n}\n`);
    assert.equal(parseSerial(formatSerial(n)), n);
  }
});

Deno.test("serialToHex() gives even-length hex that serialFromHex() reads back", () => {
  assert.equal(serialToHex(101n), "65");
  assert.equal(serialToHex(0x100n), "0100");
  for (const n of [1n, 127n, 128n, 255n, 256n, 4096n, 2n ** 64n + 3n]) {
    const hex = serialToHex(n);
    assert.equal(hex.length % 2, 0);
    assert.equal(serialFromHex(hex), n);
  }
});

Deno.test("serialToHex() refuses zero and negative serials", () => {
  assert.throws(() => serialToHex(0n), RangeError);
  assert.throws(() => serialToHex(-1n), RangeError);
});
