/**
 * The `metrics_listen` setting: `ADDR:PORT` (an IPv6 address in brackets, `[::1]:9404`), or
 * empty for no metrics endpoint (the default).
 *
 * @module
 */
import { strtonum } from "../c_parse.ts";

/** Where the metrics endpoint listens. */
export interface MetricsListen {
  /** As `Deno.listen` takes it (no brackets). */
  readonly hostname: string;
  readonly port: number;
}

/** An IPv4 address, an IPv6 address (in brackets in the setting) or a host name. */
const HOST = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))$/;

/** Parses `ADDR:PORT`; undefined when it is not one (port 1..65535). Empty: not checked here. */
export function parseMetricsListen(text: string): MetricsListen | undefined {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  const match = HOST.exec(text.slice(0, colon));
  const port = strtonum(text.slice(colon + 1), 1n, 65535n);
  if (match === null || port === undefined || !/^\d+$/.test(text.slice(colon + 1))) {
    return undefined;
  }
  const hostname = match[1] ?? match[2]!;
  if (match[1] !== undefined && !hostname.includes(":")) return undefined;
  return { hostname, port: Number(port) };
}

/** `host:port` as Deno's net permission names a listen address (`[v6]:port`). */
export function metricsListenDescriptor(listen: MetricsListen): string {
  const host = listen.hostname.includes(":") ? `[${listen.hostname}]` : listen.hostname;
  return `${host}:${listen.port}`;
}
