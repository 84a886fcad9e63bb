import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { ManualClock } from "../../core/clock.ts";
import { TIMER_LIST_MAX_INTERVAL, TimerList } from "../../core/arbiter/timer_list.ts";

function setup() {
  const clock = new ManualClock(0);
  const timers = new TimerList(clock);
  const fired: string[] = [];
  const cb = (name: string, again = false) => () => {
    fired.push(name);
    return again;
  };
  return { clock, timers, fired, cb };
}

Deno.test({
  name: "TimerList.expire() fires due timers earliest first",
  permissions: "none",
  fn() {
    const { clock, timers, fired, cb } = setup();
    for (const [name, ms] of [["c", 300], ["a", 100], ["d", 400], ["b", 200]] as const) {
      timers.add(ms, cb(name));
    }
    assertEquals(timers.msUntilNext(), 100);
    clock.advance(250);
    timers.expire();
    assertEquals(fired, ["a", "b"]);
    assertEquals(timers.msUntilNext(), 50);
    clock.advance(1000);
    timers.expire();
    assertEquals(fired, ["a", "b", "c", "d"]);
    assertEquals(timers.msUntilNext(), undefined);
    assertEquals(timers.size, 0);
  },
});

Deno.test({
  name: "TimerList.add() refuses intervals outside 1..TIMER_LIST_MAX_INTERVAL",
  permissions: "none",
  fn() {
    const { timers, cb } = setup();
    assertEquals(timers.add(0, cb("x")), undefined);
    assertEquals(timers.add(TIMER_LIST_MAX_INTERVAL + 1, cb("x")), undefined);
    assert(timers.add(TIMER_LIST_MAX_INTERVAL, cb("x")) !== undefined);
  },
});

Deno.test({
  name: "TimerList.reschedule() and setInterval() restart a timer from now",
  permissions: "none",
  fn() {
    const { clock, timers, fired, cb } = setup();
    const a = timers.add(100, cb("a"))!;
    clock.advance(90);
    timers.reschedule(a);
    assertEquals(timers.msUntilNext(), 100);
    clock.advance(50);
    assertEquals(timers.setInterval(a, 30), true);
    assertEquals(timers.setInterval(a, 0), false);
    assertEquals(a.interval, 30);
    clock.advance(30);
    timers.expire();
    assertEquals(fired, ["a"]);
    assertEquals(timers.setInterval(a, 30), false);
  },
});

Deno.test({
  name: "TimerList.expire() repeats a timer whose callback asks for it",
  permissions: "none",
  fn() {
    const { clock, timers, fired, cb } = setup();
    timers.add(100, cb("r", true));
    for (let i = 0; i < 3; i++) {
      clock.advance(100);
      timers.expire();
    }
    assertEquals(fired, ["r", "r", "r"]);
    assertEquals(timers.msUntilNext(), 100);
  },
});

Deno.test({
  name: "TimerList.delete() cancels and the freed entry is reused first, as in C",
  permissions: "none",
  fn() {
    const { clock, timers, fired, cb } = setup();
    const a = timers.add(100, cb("a"))!;
    const b = timers.add(50, cb("b"))!;
    timers.delete(a);
    timers.delete(a);
    assertEquals(timers.size, 1);
    const c = timers.add(70, cb("c"))!;
    assert(c === a);
    assert(c !== b);
    clock.advance(100);
    timers.expire();
    assertEquals(fired, ["b", "c"]);
  },
});

Deno.test({
  name: "TimerList reuses the last deleted entry first and lets go of deleted callbacks",
  permissions: "none",
  fn() {
    const { timers, cb } = setup();
    const entries = [1, 2, 3].map((i) => timers.add(100, cb(`t${i}`))!);
    const callbacks = entries.map((e) => e.callback);
    for (const e of entries) timers.delete(e);
    // A deleted entry must not keep its callback (and the client it closes over) alive.
    entries.forEach((e, i) => assert(e.callback !== callbacks[i], `entry ${i} kept its callback`));
    // C's free list: insert at the head, take the head. The last deleted comes back first.
    assert(timers.add(50, cb("a")) === entries[2]);
    assert(timers.add(50, cb("b")) === entries[1]);
    assert(timers.add(50, cb("c")) === entries[0]);
  },
});
