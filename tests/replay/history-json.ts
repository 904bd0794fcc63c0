/**
 * Event histories to and from the JSON `temporal workflow show --output json` writes.
 *
 * Not `historyToJSON`/`historyFromJSON` of @temporalio/common: with the installed tree they fail
 * ("type must be a Type"), because @temporalio/common and @temporalio/proto each carry their own
 * copy of protobufjs and the JSON converter checks types with `instanceof` against its own copy.
 * Here the converter comes from the copy @temporalio/proto's types were built with.
 */
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import type { temporal } from '@temporalio/proto';

export type History = temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoRequire = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { toJson, fromJson } = protoRequire('protobufjs/ext/protojson') as ProtoJson;
const HistoryType = proto.temporal.api.history.v1.History;

/**
 * The history as proto3 JSON (enum names, 64-bit numbers as strings), pretty-printed. Failures'
 * stack traces are left out: replay never reads them, and they name the recording machine's paths.
 */
export function historyToJson(history: History): string {
  return formatHistoryJson(toJson(HistoryType, HistoryType.fromObject(history)));
}

/** Pretty-prints a history's JSON without its failures' stack traces. */
export function formatHistoryJson(json: unknown): string {
  return JSON.stringify(json, (key, value: unknown) => (key === 'stackTrace' ? undefined : value), 1) + '\n';
}

/** A history read back from its JSON; fields a newer server added are ignored. */
export function historyFromJson(json: unknown): History {
  const h = fromJson(HistoryType, json, { ignoreUnknownFields: true }) as History | null;
  if (!h?.events?.length) throw new TypeError('not a workflow history: no events');
  return h;
}
