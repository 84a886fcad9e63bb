import assert from "node:assert/strict";
import { VALIDITY_MONTHS, validityFrom } from "../../core/certs/validity.ts";

Deno.test("validityFrom() starts now, without milliseconds, and ends 1200 months later", () => {
  const now = new Date("2026-11-22T00:31:11.789Z");
  const v = validityFrom(now);
  assert.equal(VALIDITY_MONTHS, 1200);
  assert.equal(v.notBefore.toISOString(), "2026-11-22T00:31:11.000Z");
  assert.equal(v.notAfter.toISOString(), "2126-11-22T00:31:11.000Z");
});

Deno.test("validityFrom() rolls a missing day into the next month as PR_ImplodeTime does", () => {
  // 2028-02-29 + 100 years: 2128 is a leap year, 2128-02-29 exists.
  assert.equal(
    validityFrom(new Date("2028-02-29T12:00:00Z")).notAfter.toISOString(),
    "2128-02-29T12:00:00.000Z",
  );
  // 2097-02-29 does not exist: one day later is 2097-03-01.
  assert.equal(
    validityFrom(new Date("2096-02-29T00:00:00Z"), 12).notAfter.toISOString(),
    "2097-03-01T00:00:00.000Z",
  );
  assert.equal(
    validityFrom(new Date("2026-01-31T00:00:00Z"), 1).notAfter.toISOString(),
    "2026-03-03T00:00:00.000Z",
  );
});
