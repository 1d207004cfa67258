/**
 * Typed, validated view of shared/resources/resources.json — the one source of truth for resource names and
 * shapes (also read by the local bootstrap and by the hw-resources crate).
 *
 * The loader is deliberately strict: an unknown top-level section, an unknown field or a dangling reference makes
 * synth (and therefore the jest suite) fail, so resources.json cannot grow something the CDK app silently ignores.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** infra/cdk */
export const CDK_ROOT = path.resolve(__dirname, '..');
/** the repository root (the Cargo workspace) */
export const REPO_ROOT = path.resolve(CDK_ROOT, '..', '..');
export const DEFAULT_RESOURCES_FILE = path.join(REPO_ROOT, 'shared', 'resources', 'resources.json');

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

/** the hw-resources crate knows these two */
export type Projection = 'ALL' | 'KEYS_ONLY';

export interface GsiSpec {
  readonly name: string;
  readonly partition_key: KeyAttribute;
  readonly sort_key?: KeyAttribute;
  readonly projection: Projection;
}

export interface TableSpec {
  readonly env: string;
  readonly name: string;
  readonly description?: string;
  readonly partition_key: KeyAttribute;
  readonly sort_key?: KeyAttribute;
  readonly ttl_attribute?: string;
  readonly global_secondary_indexes: GsiSpec[];
}

export interface EventBusSpec {
  readonly env: string;
  readonly name: string;
  /** the `source` of every event the platform publishes */
  readonly source: string;
}

/**
 * The API Gateway WebSocket API of GraphQL subscriptions: functions whose trigger is "websocket" take its routes;
 * functions with `websocket_callback` post to its connections (API Gateway Management API) at the stage's callback
 * URL, carried by `env`.
 */
export interface WebsocketApiSpec {
  readonly env: string;
  readonly name: string;
  readonly description?: string;
}

export interface KmsKeySpec {
  readonly env: string;
  /** alias without the `alias/` prefix and without the resource prefix */
  readonly alias: string;
  readonly description?: string;
}

export interface QueueSpec {
  readonly env: string;
  readonly name: string;
  readonly description?: string;
  readonly visibility_timeout_seconds: number;
  readonly max_receive_count: number;
  readonly dlq_retention_seconds: number;
  /**
   * For queues whose consumers send to the dead-letter queue on purpose: the environment variable that carries the
   * DLQ's URL to the functions listing the queue in `dead_letter_queues`.
   */
  readonly dlq_env?: string;
  /**
   * For queues that EventBridge Scheduler schedules target (they name a queue by ARN): the environment variable that
   * carries the queue's ARN to the functions listing the queue in `scheduler_targets`.
   */
  readonly arn_env?: string;
  /** the alarm on the dead-letter queue; absent: "not empty" (see `effectiveDlqAlarm`) */
  readonly dlq_alarm?: DlqAlarmSpec;
}

/**
 * `visible`: ApproximateNumberOfMessagesVisible (Maximum) — letters waiting. `sent`: NumberOfMessagesSent (Sum over
 * the period) — letters arriving, for dead-letter queues that fill on purpose (a "not empty" alarm would never clear).
 */
export const DLQ_ALARM_METRICS = ['visible', 'sent'] as const;
export type DlqAlarmMetric = (typeof DLQ_ALARM_METRICS)[number];

export interface DlqAlarmSpec {
  readonly metric: DlqAlarmMetric;
  /** fires when the metric is at least this */
  readonly threshold: number;
  /** 60 to 86400, a multiple of 60; default `DEFAULT_DLQ_ALARM_PERIOD_SECONDS` */
  readonly period_seconds?: number;
  /** the alarm description; absent: a generic one */
  readonly description?: string;
}

export const DEFAULT_DLQ_ALARM_PERIOD_SECONDS = 300;

export interface EffectiveDlqAlarm extends DlqAlarmSpec {
  readonly period_seconds: number;
}

/** The alarm a queue's DLQ gets, defaults applied: without `dlq_alarm`, any visible message over 5 minutes. */
export function effectiveDlqAlarm(queue: QueueSpec): EffectiveDlqAlarm {
  const a = queue.dlq_alarm ?? { metric: 'visible', threshold: 1 };
  return {
    metric: a.metric,
    threshold: a.threshold,
    period_seconds: a.period_seconds ?? DEFAULT_DLQ_ALARM_PERIOD_SECONDS,
    description: a.description,
  };
}

/** Objects under `prefix` are deleted `days` days after they were written. */
export interface ExpirationSpec {
  readonly prefix: string;
  readonly days: number;
}

/** `s3:ObjectCreated:*` under `prefix` is sent to the queue `target_queue`. */
export interface NotificationSpec {
  readonly prefix: string;
  readonly target_queue: string;
}

/**
 * An S3 bucket. Locally its name is `<prefix>-<name>`; in AWS CloudFormation generates it (bucket names are global),
 * and the variable `env` carries it either way.
 */
export interface BucketSpec {
  readonly env: string;
  readonly name: string;
  readonly description?: string;
  /** default: none */
  readonly expiration?: ExpirationSpec[];
  /** multipart uploads never completed are aborted (and their parts deleted) after this many days */
  readonly abort_incomplete_multipart_days: number;
  /** default: none */
  readonly notifications?: NotificationSpec[];
}

export interface ScheduleSpec {
  readonly description?: string;
  readonly expression: string;
  readonly target_queue: string;
  /** sent as the message body (JSON) */
  readonly input: unknown;
}

/** An EventBridge pattern as written in resources.json (`source`, `detail-type`, `detail`, ...). */
export type EventPatternSpec = Record<string, unknown>;

/** An EventBridge rule on the platform's bus (named `<prefix>-<id>`) that sends matching events to a queue. */
export interface RuleSpec {
  readonly description?: string;
  readonly pattern: EventPatternSpec;
  readonly target_queue: string;
}

export interface HttpTriggerSpec {
  readonly type: 'http';
  /** API Gateway v2 route keys, e.g. "ANY /v1/{proxy+}" or "GET /health" */
  readonly routes: string[];
}

export interface SqsTriggerSpec {
  readonly type: 'sqs';
  readonly queue: string;
  readonly batch_size: number;
  readonly report_batch_item_failures: boolean;
}

export interface WebsocketTriggerSpec {
  readonly type: 'websocket';
  /** WebSocket route keys: "$connect", "$disconnect", "$default" or custom ones */
  readonly routes: string[];
}

export type TriggerSpec = HttpTriggerSpec | SqsTriggerSpec | WebsocketTriggerSpec;

export interface FunctionSpec {
  readonly description?: string;
  readonly memory_mb: number;
  readonly timeout_seconds: number;
  readonly tables: string[];
  readonly event_bus: boolean;
  readonly kms_keys: string[];
  /** queues the function sends to */
  readonly queues: string[];
  /** queues whose dead-letter queue the function sends to (each declares `dlq_env`) */
  readonly dead_letter_queues?: string[];
  /** buckets the function reads and writes */
  readonly buckets?: string[];
  /**
   * Queues the function sends to through EventBridge Scheduler schedules it creates, updates and deletes at run time
   * (named `<prefix>-export-<id>` in the `default` group). Each must declare `arn_env` and be in `queues`. The function
   * gets a role Scheduler assumes (`HUBBLE_SCHEDULER_ROLE_ARN`), the queues' ARNs, and permission to manage those
   * schedules and pass that role; the schedules themselves are runtime data (see `Function::scheduler_targets` in
   * shared/resources/src/lib.rs).
   */
  readonly scheduler_targets?: string[];
  /** posts to WebSocket connections: gets the stage's callback URL and execute-api:ManageConnections on it */
  readonly websocket_callback?: boolean;
  readonly trigger: TriggerSpec;
}

export interface Resources {
  readonly tables: Record<string, TableSpec>;
  readonly event_bus: EventBusSpec;
  readonly websocket_api: WebsocketApiSpec;
  readonly kms_keys: Record<string, KmsKeySpec>;
  readonly buckets: Record<string, BucketSpec>;
  readonly queues: Record<string, QueueSpec>;
  readonly schedules: Record<string, ScheduleSpec>;
  readonly rules: Record<string, RuleSpec>;
  readonly functions: Record<string, FunctionSpec>;
}

/** `$connect`, `$disconnect`, `$default`, or a custom route key */
const WEBSOCKET_ROUTE = /^(\$connect|\$disconnect|\$default|[A-Za-z0-9_.:-]+)$/;

/**
 * The platform's public base URL (OAuth issuers are `{base}/t/{tenant}`). Functions on the WebSocket API get the
 * HTTP API's URL here: the WebSocket API has a host of its own, and access tokens name the HTTP API's issuer.
 */
export const PUBLIC_BASE_URL_ENV = 'HUBBLE_PUBLIC_BASE_URL';

/** `<prefix>-<name>` */
export function physicalName(prefix: string, name: string): string {
  return `${prefix}-${name}`;
}

/** `<prefix>-<name>-dlq` */
export function dlqName(prefix: string, queue: QueueSpec): string {
  return physicalName(prefix, `${queue.name}-dlq`);
}

/** `alias/<prefix>-<alias>` */
export function kmsAliasName(prefix: string, key: KmsKeySpec): string {
  return `alias/${physicalName(prefix, key.alias)}`;
}

/** The environment variable that carries the event source to functions that publish events. */
export const EVENT_SOURCE_ENV = 'HUBBLE_EVENT_SOURCE';

/** The environment variable that carries the scheduler role's ARN to functions with `scheduler_targets`. */
export const SCHEDULER_ROLE_ENV = 'HUBBLE_SCHEDULER_ROLE_ARN';

/**
 * The schedule names a function with `scheduler_targets` may manage, in the account's `default` group:
 * `<prefix>-export-*` (the api names them `<prefix>-export-<template id>`).
 */
export function managedScheduleNamePattern(prefix: string): string {
  return `${prefix}-export-*`;
}

const ROUTE_METHODS = ['ANY', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** Splits "GET /health" into its method and path. */
export function parseRoute(route: string): { method: RouteMethod; path: string } {
  const m = /^([A-Z]+) (\/\S*)$/.exec(route);
  if (!m || !(ROUTE_METHODS as readonly string[]).includes(m[1])) {
    throw new Error(`invalid route "${route}": expected "<METHOD> /path" with METHOD in ${ROUTE_METHODS.join(', ')}`);
  }
  return { method: m[1] as RouteMethod, path: m[2] };
}

// ---------------------------------------------------------------------------------------------------------------
// loading and validation

export function loadResources(file: string = DEFAULT_RESOURCES_FILE): Resources {
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  return validateResources(raw, file);
}

class Checker {
  readonly errors: string[] = [];

  constructor(private readonly source: string) {}

  fail(where: string, message: string): void {
    this.errors.push(`${where}: ${message}`);
  }

  object(where: string, v: unknown): Record<string, unknown> | undefined {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.fail(where, 'expected an object');
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  fields(where: string, o: Record<string, unknown>, required: string[], optional: string[] = []): void {
    for (const k of required) {
      if (!(k in o)) this.fail(where, `missing field "${k}"`);
    }
    for (const k of Object.keys(o)) {
      if (!required.includes(k) && !optional.includes(k) && k !== '$comment') {
        this.fail(where, `unknown field "${k}" (the CDK app does not know how to deploy it; update infra/cdk)`);
      }
    }
  }

  string(where: string, v: unknown, pattern?: RegExp): void {
    if (typeof v !== 'string' || v.length === 0) this.fail(where, 'expected a non-empty string');
    else if (pattern && !pattern.test(v)) this.fail(where, `"${v}" does not match ${pattern}`);
  }

  int(where: string, v: unknown, min: number, max: number): void {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(where, `expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    }
  }

  bool(where: string, v: unknown): void {
    if (typeof v !== 'boolean') this.fail(where, 'expected a boolean');
  }

  stringArray(where: string, v: unknown): string[] {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.fail(where, 'expected an array of strings');
      return [];
    }
    return v as string[];
  }

  refs(where: string, v: unknown, known: Record<string, unknown> | undefined, what: string): void {
    for (const r of this.stringArray(where, v)) {
      if (!known || !(r in known)) this.fail(where, `unknown ${what} "${r}"`);
    }
  }

  keyAttribute(where: string, v: unknown): void {
    const o = this.object(where, v);
    if (!o) return;
    this.fields(where, o, ['name', 'type']);
    this.string(`${where}.name`, o.name);
    if (!['S', 'N', 'B'].includes(o.type as string)) this.fail(`${where}.type`, 'expected "S", "N" or "B"');
  }

  /**
   * An EventBridge event pattern: a non-empty object whose fields are arrays (the values to match) or nested
   * objects. Top-level `detailType` is refused: CDK would render it as `detail-type`, so the deployed pattern would
   * differ from what resources.json says.
   */
  eventPattern(where: string, v: unknown): void {
    const o = this.object(where, v);
    if (!o) return;
    if (Object.keys(o).length === 0) this.fail(where, 'an event pattern needs at least one field');
    if ('detailType' in o) this.fail(where, 'the event field is spelled "detail-type"');
    const walk = (w: string, x: Record<string, unknown>) => {
      for (const [k, val] of Object.entries(x)) {
        if (Array.isArray(val)) continue;
        if (typeof val === 'object' && val !== null && Object.keys(val).length > 0) walk(`${w}.${k}`, val as Record<string, unknown>);
        else this.fail(`${w}.${k}`, 'event pattern fields are arrays of values to match or non-empty objects');
      }
    };
    walk(where, o);
  }

  /** `{metric, threshold, period_seconds?, description?}` (hw-resources: `DlqAlarm`) */
  dlqAlarm(where: string, v: unknown): void {
    const a = this.object(where, v);
    if (!a) return;
    this.fields(where, a, ['metric', 'threshold'], ['period_seconds', 'description']);
    if ('metric' in a && !(DLQ_ALARM_METRICS as readonly unknown[]).includes(a.metric)) {
      this.fail(`${where}.metric`, `expected ${DLQ_ALARM_METRICS.map((m) => `"${m}"`).join(' or ')}, got ${JSON.stringify(a.metric)}`);
    }
    // the crate reads it as a u32
    if ('threshold' in a) this.int(`${where}.threshold`, a.threshold, 1, 4294967295);
    if (a.period_seconds !== undefined) {
      const p = a.period_seconds;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 60 || p > 86400 || p % 60 !== 0) {
        this.fail(`${where}.period_seconds`, `expected a multiple of 60 in [60, 86400] (CloudWatch alarm periods), got ${JSON.stringify(p)}`);
      }
    }
    if (a.description !== undefined) {
      this.string(`${where}.description`, a.description);
      if (typeof a.description === 'string' && a.description.length > 1024) {
        this.fail(`${where}.description`, `at most 1024 characters (CloudWatch), got ${a.description.length}`);
      }
    }
  }

  done(): void {
    if (this.errors.length > 0) {
      throw new Error(`${this.source} is not valid for the CDK app:\n  - ${this.errors.join('\n  - ')}`);
    }
  }
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ENV = /^[A-Z][A-Z0-9_]*$/;
const SECTIONS = ['tables', 'event_bus', 'websocket_api', 'kms_keys', 'buckets', 'queues', 'schedules', 'rules', 'functions'];

/** Validates the parsed JSON and returns it typed; throws one error listing every problem. */
export function validateResources(raw: unknown, source = 'resources.json'): Resources {
  const c = new Checker(source);
  const root = c.object('$', raw);
  if (!root) {
    c.done();
    throw new Error('unreachable');
  }
  c.fields('$', root, SECTIONS);
  const sections: Record<string, Record<string, unknown> | undefined> = {};
  for (const s of SECTIONS) sections[s] = root[s] === undefined ? undefined : c.object(s, root[s]);

  for (const [id, v] of Object.entries(sections.tables ?? {})) {
    const w = `tables.${id}`;
    const t = c.object(w, v);
    if (!t) continue;
    c.fields(w, t, ['env', 'name', 'partition_key', 'global_secondary_indexes'], ['description', 'sort_key', 'ttl_attribute']);
    c.string(`${w}.env`, t.env, ENV);
    c.string(`${w}.name`, t.name, NAME);
    c.keyAttribute(`${w}.partition_key`, t.partition_key);
    if (t.sort_key !== undefined) c.keyAttribute(`${w}.sort_key`, t.sort_key);
    if (t.ttl_attribute !== undefined) c.string(`${w}.ttl_attribute`, t.ttl_attribute);
    if (!Array.isArray(t.global_secondary_indexes)) {
      c.fail(`${w}.global_secondary_indexes`, 'expected an array');
      continue;
    }
    t.global_secondary_indexes.forEach((g: unknown, i: number) => {
      const gw = `${w}.global_secondary_indexes[${i}]`;
      const o = c.object(gw, g);
      if (!o) return;
      c.fields(gw, o, ['name', 'partition_key', 'projection'], ['sort_key']);
      c.string(`${gw}.name`, o.name);
      c.keyAttribute(`${gw}.partition_key`, o.partition_key);
      if (o.sort_key !== undefined) c.keyAttribute(`${gw}.sort_key`, o.sort_key);
      if (!['ALL', 'KEYS_ONLY'].includes(o.projection as string)) {
        c.fail(`${gw}.projection`, 'expected "ALL" or "KEYS_ONLY"');
      }
    });
    // an attribute used by several keys must have one type
    const types = new Map<string, string>();
    const keys = [t.partition_key, t.sort_key, ...t.global_secondary_indexes.flatMap((g: any) => [g?.partition_key, g?.sort_key])];
    for (const k of keys as Array<KeyAttribute | undefined>) {
      if (!k || typeof k !== 'object') continue;
      const prev = types.get(k.name);
      if (prev && prev !== k.type) c.fail(w, `attribute "${k.name}" is declared as both ${prev} and ${k.type}`);
      types.set(k.name, k.type);
    }
  }

  const bus = sections.event_bus;
  if (bus) {
    c.fields('event_bus', bus, ['env', 'name', 'source']);
    c.string('event_bus.env', bus.env, ENV);
    c.string('event_bus.name', bus.name, NAME);
    c.string('event_bus.source', bus.source);
  }

  const wsApi = sections.websocket_api;
  if (wsApi) {
    c.fields('websocket_api', wsApi, ['env', 'name'], ['description']);
    c.string('websocket_api.env', wsApi.env, ENV);
    c.string('websocket_api.name', wsApi.name, NAME);
  }

  for (const [id, v] of Object.entries(sections.kms_keys ?? {})) {
    const w = `kms_keys.${id}`;
    const k = c.object(w, v);
    if (!k) continue;
    c.fields(w, k, ['env', 'alias'], ['description']);
    c.string(`${w}.env`, k.env, ENV);
    c.string(`${w}.alias`, k.alias, NAME);
  }

  for (const [id, v] of Object.entries(sections.queues ?? {})) {
    const w = `queues.${id}`;
    const q = c.object(w, v);
    if (!q) continue;
    c.fields(w, q, ['env', 'name', 'visibility_timeout_seconds', 'max_receive_count', 'dlq_retention_seconds'], ['description', 'dlq_env', 'arn_env', 'dlq_alarm']);
    c.string(`${w}.env`, q.env, ENV);
    if (q.dlq_env !== undefined) c.string(`${w}.dlq_env`, q.dlq_env, ENV);
    if (q.arn_env !== undefined) c.string(`${w}.arn_env`, q.arn_env, ENV);
    c.string(`${w}.name`, q.name, NAME);
    c.int(`${w}.visibility_timeout_seconds`, q.visibility_timeout_seconds, 0, 43200);
    c.int(`${w}.max_receive_count`, q.max_receive_count, 1, 1000);
    c.int(`${w}.dlq_retention_seconds`, q.dlq_retention_seconds, 60, 1209600);
    if (q.dlq_alarm !== undefined) c.dlqAlarm(`${w}.dlq_alarm`, q.dlq_alarm);
  }

  for (const [id, v] of Object.entries(sections.buckets ?? {})) {
    const w = `buckets.${id}`;
    const b = c.object(w, v);
    if (!b) continue;
    c.fields(w, b, ['env', 'name', 'abort_incomplete_multipart_days'], ['description', 'expiration', 'notifications']);
    c.string(`${w}.env`, b.env, ENV);
    c.string(`${w}.name`, b.name, NAME);
    if (b.description !== undefined) c.string(`${w}.description`, b.description);
    // the crate reads days as u32; S3 wants a positive integer
    c.int(`${w}.abort_incomplete_multipart_days`, b.abort_incomplete_multipart_days, 1, 2147483647);
    if (b.expiration !== undefined) {
      if (!Array.isArray(b.expiration)) c.fail(`${w}.expiration`, 'expected an array');
      else {
        b.expiration.forEach((e: unknown, i: number) => {
          const ew = `${w}.expiration[${i}]`;
          const o = c.object(ew, e);
          if (!o) return;
          c.fields(ew, o, ['prefix', 'days']);
          c.string(`${ew}.prefix`, o.prefix);
          c.int(`${ew}.days`, o.days, 1, 2147483647);
        });
      }
    }
    if (b.notifications !== undefined) {
      if (!Array.isArray(b.notifications)) c.fail(`${w}.notifications`, 'expected an array');
      else {
        b.notifications.forEach((n: unknown, i: number) => {
          const nw = `${w}.notifications[${i}]`;
          const o = c.object(nw, n);
          if (!o) return;
          c.fields(nw, o, ['prefix', 'target_queue']);
          c.string(`${nw}.prefix`, o.prefix);
          if (typeof o.target_queue !== 'string') c.fail(`${nw}.target_queue`, 'expected a non-empty string');
          else c.refs(`${nw}.target_queue`, [o.target_queue], sections.queues, 'queue');
        });
        // S3 refuses a notification configuration whose filters overlap for the same event type
        // (all are s3:ObjectCreated:*): no prefix may start with another's
        const prefixes: unknown[] = b.notifications.map((n: any) => n?.prefix);
        prefixes.forEach((p, i) => {
          if (typeof p !== 'string') return;
          const j = prefixes.findIndex((q, k) => k !== i && typeof q === 'string' && p.startsWith(q) && (p !== q || k < i));
          if (j >= 0) {
            c.fail(`${w}.notifications[${i}].prefix`, `"${p}" overlaps "${prefixes[j]}" of notifications[${j}] (S3 refuses overlapping notifications)`);
          }
        });
      }
    }
  }

  for (const [id, v] of Object.entries(sections.schedules ?? {})) {
    const w = `schedules.${id}`;
    // `<prefix>-export-*` belongs to the schedules functions manage at run time (managedScheduleNamePattern)
    if (id.startsWith('export-')) c.fail(w, 'schedule keys starting with "export-" are reserved for the schedules functions manage at run time');
    const s = c.object(w, v);
    if (!s) continue;
    c.fields(w, s, ['expression', 'target_queue', 'input'], ['description']);
    c.string(`${w}.expression`, s.expression, /^(rate|cron|at)\(.+\)$/);
    c.refs(`${w}.target_queue`, [s.target_queue], sections.queues, 'queue');
  }

  for (const [id, v] of Object.entries(sections.rules ?? {})) {
    const w = `rules.${id}`;
    // the physical rule name is `<prefix>-<id>`
    if (!NAME.test(id)) c.fail(w, 'rule keys are names: lowercase letters, digits and "-"');
    const r = c.object(w, v);
    if (!r) continue;
    c.fields(w, r, ['pattern', 'target_queue'], ['description']);
    if (r.description !== undefined) c.string(`${w}.description`, r.description);
    c.eventPattern(`${w}.pattern`, r.pattern);
    c.refs(`${w}.target_queue`, [r.target_queue], sections.queues, 'queue');
  }

  for (const [id, v] of Object.entries(sections.functions ?? {})) {
    const w = `functions.${id}`;
    if (!NAME.test(id)) c.fail(w, 'function keys are binary names: lowercase letters, digits and "-"');
    const f = c.object(w, v);
    if (!f) continue;
    c.fields(w, f, ['memory_mb', 'timeout_seconds', 'tables', 'event_bus', 'kms_keys', 'queues', 'trigger'], ['description', 'dead_letter_queues', 'buckets', 'scheduler_targets', 'websocket_callback']);
    c.int(`${w}.memory_mb`, f.memory_mb, 128, 10240);
    c.int(`${w}.timeout_seconds`, f.timeout_seconds, 1, 900);
    c.refs(`${w}.tables`, f.tables, sections.tables, 'table');
    c.bool(`${w}.event_bus`, f.event_bus);
    c.refs(`${w}.kms_keys`, f.kms_keys, sections.kms_keys, 'kms key');
    c.refs(`${w}.queues`, f.queues, sections.queues, 'queue');
    if (f.dead_letter_queues !== undefined) {
      const dw = `${w}.dead_letter_queues`;
      for (const q of c.stringArray(dw, f.dead_letter_queues)) {
        const queue = sections.queues?.[q] as Record<string, unknown> | undefined;
        if (!queue) c.fail(dw, `unknown queue "${q}"`);
        else if (queue.dlq_env === undefined) {
          c.fail(dw, `queue "${q}" declares no "dlq_env": add one to queues.${q} so the function gets its dead-letter queue's URL`);
        }
      }
    }
    if (f.buckets !== undefined) c.refs(`${w}.buckets`, f.buckets, sections.buckets, 'bucket');
    if (f.scheduler_targets !== undefined) {
      const sw = `${w}.scheduler_targets`;
      const sendsTo = Array.isArray(f.queues) ? (f.queues as unknown[]) : [];
      for (const q of c.stringArray(sw, f.scheduler_targets)) {
        const queue = sections.queues?.[q] as Record<string, unknown> | undefined;
        if (!queue) {
          c.fail(sw, `unknown queue "${q}"`);
          continue;
        }
        if (queue.arn_env === undefined) {
          c.fail(sw, `queue "${q}" declares no "arn_env": add one to queues.${q} so the function gets the queue's ARN`);
        }
        if (!sendsTo.includes(q)) c.fail(sw, `queue "${q}" is not in the function's "queues"`);
      }
    }
    if (f.websocket_callback !== undefined) {
      c.bool(`${w}.websocket_callback`, f.websocket_callback);
      if (f.websocket_callback === true && !wsApi) c.fail(`${w}.websocket_callback`, 'there is no websocket_api section');
    }
    const trig = c.object(`${w}.trigger`, f.trigger);
    if (!trig) continue;
    const tw = `${w}.trigger`;
    if (trig.type === 'http') {
      c.fields(tw, trig, ['type', 'routes']);
      const routes = c.stringArray(`${tw}.routes`, trig.routes);
      if (routes.length === 0) c.fail(`${tw}.routes`, 'an http function needs at least one route');
      for (const r of routes) {
        try {
          parseRoute(r);
        } catch (e) {
          c.fail(`${tw}.routes`, (e as Error).message);
        }
      }
      if (typeof f.timeout_seconds === 'number' && f.timeout_seconds > 30) {
        c.fail(`${w}.timeout_seconds`, 'API Gateway HTTP API integrations time out after 30 s');
      }
    } else if (trig.type === 'sqs') {
      c.fields(tw, trig, ['type', 'queue', 'batch_size', 'report_batch_item_failures']);
      c.int(`${tw}.batch_size`, trig.batch_size, 1, 10000);
      c.bool(`${tw}.report_batch_item_failures`, trig.report_batch_item_failures);
      const q = sections.queues?.[trig.queue as string] as Record<string, unknown> | undefined;
      if (!q) c.fail(`${tw}.queue`, `unknown queue "${String(trig.queue)}"`);
      else if (
        typeof q.visibility_timeout_seconds === 'number' &&
        typeof f.timeout_seconds === 'number' &&
        q.visibility_timeout_seconds < f.timeout_seconds
      ) {
        // Lambda refuses such an event source mapping at deploy time
        c.fail(tw, `queue visibility timeout (${q.visibility_timeout_seconds} s) is shorter than the function timeout (${f.timeout_seconds} s)`);
      }
    } else if (trig.type === 'websocket') {
      c.fields(tw, trig, ['type', 'routes']);
      const routes = c.stringArray(`${tw}.routes`, trig.routes);
      if (routes.length === 0) c.fail(`${tw}.routes`, 'a websocket function needs at least one route');
      for (const r of routes) {
        if (!WEBSOCKET_ROUTE.test(r)) c.fail(`${tw}.routes`, `"${r}" is not a WebSocket route key ($connect, $disconnect, $default or a name)`);
      }
      if (!wsApi) c.fail(tw, 'there is no websocket_api section');
      if (typeof f.timeout_seconds === 'number' && f.timeout_seconds > 29) {
        c.fail(`${w}.timeout_seconds`, 'API Gateway WebSocket integrations time out after 29 s');
      }
    } else {
      c.fail(`${tw}.type`, `unsupported trigger type ${JSON.stringify(trig.type)} (supported: "http", "sqs", "websocket")`);
    }
  }

  // posting to WebSocket connections needs a WebSocket API, which exists when a function is routed on it
  const fns = Object.entries(sections.functions ?? {}) as Array<[string, any]>;
  if (!fns.some(([, f]) => f?.trigger?.type === 'websocket')) {
    for (const [id, f] of fns) {
      if (f?.websocket_callback === true) c.fail(`functions.${id}.websocket_callback`, 'no function is routed on the WebSocket API ("websocket" trigger)');
    }
  }

  // every route (HTTP path, WebSocket route key) belongs to exactly one function
  const seen = new Map<string, string>();
  for (const [id, f] of Object.entries(sections.functions ?? {})) {
    const trig = (f as any)?.trigger;
    if ((trig?.type !== 'http' && trig?.type !== 'websocket') || !Array.isArray(trig.routes)) continue;
    for (const r of trig.routes) {
      if (seen.has(r)) c.fail(`functions.${id}.trigger.routes`, `route "${r}" is also routed to "${seen.get(r)}"`);
      seen.set(r, id);
    }
  }

  // environment variable names must not collide
  const envs = new Map<string, string>();
  const claim = (name: unknown, owner: string) => {
    if (typeof name !== 'string') return;
    if (envs.has(name)) c.fail(owner, `environment variable ${name} is also used by ${envs.get(name)}`);
    envs.set(name, owner);
  };
  for (const [id, t] of Object.entries(sections.tables ?? {})) claim((t as any)?.env, `tables.${id}`);
  claim(bus?.env, 'event_bus');
  claim(wsApi?.env, 'websocket_api');
  claim(PUBLIC_BASE_URL_ENV, 'the public base URL');
  claim(EVENT_SOURCE_ENV, 'the event source');
  claim(SCHEDULER_ROLE_ENV, 'the scheduler role');
  for (const [id, k] of Object.entries(sections.kms_keys ?? {})) claim((k as any)?.env, `kms_keys.${id}`);
  for (const [id, b] of Object.entries(sections.buckets ?? {})) claim((b as any)?.env, `buckets.${id}`);
  for (const [id, q] of Object.entries(sections.queues ?? {})) {
    claim((q as any)?.env, `queues.${id}`);
    claim((q as any)?.dlq_env, `queues.${id}.dlq_env`);
    claim((q as any)?.arn_env, `queues.${id}.arn_env`);
  }

  c.done();
  return root as unknown as Resources;
}
