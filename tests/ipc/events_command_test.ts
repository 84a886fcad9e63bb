/**
 * The IPC `events` command without a daemon: request parsing, and a follower that stops
 * reading can hold at most FOLLOW_QUEUE_MAX events before it is told and dropped.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { DecisionHistory, HistoryEventKind } from "../../core/arbiter/history.ts";
import { eventsIpcHandler, FOLLOW_QUEUE_MAX, parseEventsArgs } from "../../ipc/events_command.ts";

const encoder = new TextEncoder();
const words = (...w: string[]) => w.map((x) => encoder.encode(x));

Deno.test("parseEventsArgs() reads cluster, json and follow in any order, stops at a stranger", () => {
  assertEquals(parseEventsArgs(words()), { json: false, follow: false });
  assertEquals(parseEventsArgs(words("FOLLOW", "cluster", "a b", "json")), {
    cluster: "a b",
    json: true,
    follow: true,
  });
  assertEquals(parseEventsArgs(words("json", "verbose", "follow")), { json: true, follow: false });
  assertEquals(parseEventsArgs(words("cluster", "")), { json: false, follow: false });
});

Deno.test("events follow: a follower that stops reading gets at most the queue, then is dropped", async () => {
  const limits = { historyEventsPerCluster: 100_000, historyMaxMemory: 1 << 30 };
  const history = new DecisionHistory(limits, () => 0);
  const record = (i: number) =>
    history.record({ cluster: "c", kind: HistoryEventKind.Vote, nodeId: i, text: `e${i}` });
  record(0);
  const written: string[] = [];
  let release: () => void = () => {};
  const stuck = new Promise<void>((resolve) => (release = resolve));
  let writes = 0;
  const controller = new AbortController();
  const handler = eventsIpcHandler({ history });
  const done = handler({
    tokens: words("events", "follow"),
    signal: controller.signal,
    write(bytes) {
      written.push(new TextDecoder().decode(bytes));
      // The first write (OK and the backlog) goes through; the client then stops reading.
      return writes++ === 0 ? Promise.resolve() : stuck;
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 0));
  for (let i = 1; i <= 3 * FOLLOW_QUEUE_MAX; i++) record(i);
  await new Promise((resolve) => setTimeout(resolve, 0));
  release();
  assertEquals(await done, undefined);
  assert(written[0]!.startsWith("OK\n"), written[0]);
  const streamed = written.slice(1).join("").trimEnd().split("\n");
  const events = streamed.filter((l) => l.includes(" c node "));
  // The write in flight held at most one batch; what queued behind it is bounded.
  assert(events.length <= FOLLOW_QUEUE_MAX + 1, `${events.length} events streamed`);
  assertEquals(streamed.at(-1), "Events dropped: this client did not read them in time");
});
