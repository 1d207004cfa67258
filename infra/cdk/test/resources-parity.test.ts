/**
 * The deployed shapes must be exactly what shared/resources/resources.json declares (the local bootstrap reads the
 * same file). These tests fail when the CDK app and resources.json diverge.
 */
import { Resources, loadResources } from '../lib/resources';
import { clone, synth } from './helpers';
import { checkParity } from './parity';

const resources = loadResources();

describe('template matches resources.json', () => {
  test('default prefix "hubble"', () => {
    const { json } = synth();
    expect(checkParity(json, resources, 'hubble')).toEqual([]);
  });

  test('custom prefix from context', () => {
    const { json } = synth({ prefix: 'acme-stg' });
    expect(checkParity(json, resources, 'acme-stg')).toEqual([]);
  });

  test('resources.json declares something of every kind the check covers', () => {
    // if a section becomes empty the parity test above would pass vacuously for it
    expect(Object.keys(resources.tables).length).toBeGreaterThan(0);
    expect(Object.keys(resources.kms_keys).length).toBeGreaterThan(0);
    expect(Object.keys(resources.queues).length).toBeGreaterThan(0);
    expect(Object.keys(resources.schedules).length).toBeGreaterThan(0);
    expect(Object.keys(resources.functions).length).toBeGreaterThan(0);
  });
});

describe('the parity check detects divergence', () => {
  // Build the stack from a modified copy of resources.json and compare it with the real file: every change must be
  // reported. This proves the check above is not vacuous.
  const changed: Resources = clone(resources);
  const mutate = (r: any) => {
    const table = Object.values(r.tables).find((t: any) => t.global_secondary_indexes.length > 0) as any;
    table.global_secondary_indexes[0].projection = 'KEYS_ONLY';
    const other = Object.values(r.tables).find((t: any) => t !== table) as any;
    other.sort_key = { name: 'sk2', type: 'S' };
    delete other.ttl_attribute;
    const queue = Object.values(r.queues)[0] as any;
    queue.max_receive_count += 1;
    queue.visibility_timeout_seconds += 30;
    queue.dlq_retention_seconds -= 60;
    const schedule = Object.values(r.schedules)[0] as any;
    schedule.expression = 'rate(7 minutes)';
    schedule.input = { kind: 'something.else' };
    const key = Object.values(r.kms_keys)[0] as any;
    key.alias = `${key.alias}-renamed`;
    const http = Object.values(r.functions).find((f: any) => f.trigger.type === 'http') as any;
    http.memory_mb += 128;
    http.trigger.routes.pop();
    http.kms_keys = [];
    const sqsFn = Object.values(r.functions).find((f: any) => f.trigger.type === 'sqs') as any;
    sqsFn.trigger.batch_size += 1;
    sqsFn.event_bus = !sqsFn.event_bus;
  };
  mutate(changed);

  test('every change is reported', () => {
    const { json } = synth({}, changed);
    const report = checkParity(json, resources, 'hubble').join('\n');
    for (const expected of [
      'GlobalSecondaryIndexes',
      'KeySchema',
      'AttributeDefinitions',
      'TimeToLiveSpecification',
      'RedrivePolicy.maxReceiveCount',
      'VisibilityTimeout',
      'DLQ MessageRetentionPeriod',
      'ScheduleExpression',
      'Target.Input',
      'no alias alias/hubble-',
      'MemorySize',
      'HTTP API route keys',
      'environment variable names',
      'BatchSize',
      'events:PutEvents on the bus',
    ]) {
      expect(report).toContain(expected);
    }
  });
});
