/**
 * The deployed shapes must be exactly what shared/resources/resources.json declares (the local bootstrap reads the
 * same file). These tests fail when the CDK app and resources.json diverge.
 */
import { Resources, loadResources, validateResources } from '../lib/resources';
import { CfnTemplate, clone, synth } from './helpers';
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
    expect(Object.keys(resources.rules).length).toBeGreaterThan(0);
    expect(Object.values(resources.queues).some((q) => q.dlq_env !== undefined)).toBe(true);
    expect(Object.values(resources.functions).some((f) => (f.dead_letter_queues ?? []).length > 0)).toBe(true);
    expect(Object.values(resources.queues).some((q) => q.dlq_alarm === undefined)).toBe(true);
    expect(Object.values(resources.queues).some((q) => q.dlq_alarm?.metric === 'sent')).toBe(true);
    expect(Object.keys(resources.functions).length).toBeGreaterThan(0);
    expect(Object.keys(resources.buckets).length).toBeGreaterThan(0);
    expect(Object.values(resources.buckets).some((b) => (b.expiration ?? []).length > 0)).toBe(true);
    expect(Object.values(resources.buckets).some((b) => (b.notifications ?? []).length > 0)).toBe(true);
    expect(Object.values(resources.functions).some((f) => (f.scheduler_targets ?? []).length > 0)).toBe(true);
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
    queue.dlq_alarm = { metric: 'sent', threshold: 3 };
    const schedule = Object.values(r.schedules)[0] as any;
    schedule.expression = 'rate(7 minutes)';
    schedule.input = { kind: 'something.else' };
    const key = Object.values(r.kms_keys)[0] as any;
    key.alias = `${key.alias}-renamed`;
    const http = Object.values(r.functions).find((f: any) => f.trigger.type === 'http') as any;
    http.memory_mb += 128;
    http.trigger.routes.pop();
    http.kms_keys = [];
    const sqsFn = Object.values(r.functions).find((f: any) => f.trigger.type === 'sqs' && f.trigger.batch_size < 10) as any;
    sqsFn.trigger.batch_size += 1;
    sqsFn.event_bus = !sqsFn.event_bus;
    const ws = Object.values(r.functions).find((f: any) => f.trigger.type === 'websocket') as any;
    ws.trigger.routes.pop();
    const poster = Object.values(r.functions).find((f: any) => f.websocket_callback && f.trigger.type !== 'websocket') as any;
    poster.websocket_callback = false;
    const rule = Object.values(r.rules)[0] as any;
    rule.pattern = { ...rule.pattern, 'detail-type': ['record.created'] };
    const bucket = Object.values(r.buckets).find((b: any) => (b.notifications ?? []).length > 0) as any;
    bucket.expiration = [...(bucket.expiration ?? []), { prefix: 'tmp/', days: 1 }];
    bucket.notifications[0].prefix = 'incoming/';
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
      'DLQ alarm MetricName',
      'ScheduleExpression',
      'Target.Input',
      'no alias alias/hubble-',
      'MemorySize',
      'HTTP API route keys',
      'WebSocket API route keys',
      'execute-api:ManageConnections on the WebSocket stage',
      'environment variable names',
      'BatchSize',
      'events:PutEvents on the bus',
      'EventPattern',
      'LifecycleConfiguration',
      'notifications',
    ]) {
      expect(report).toContain(expected);
    }
  });
});

describe('the parity check detects divergence of rules', () => {
  const [ruleKey, rule] = Object.entries(resources.rules)[0];
  const otherQueue = Object.keys(resources.queues).find((q) => q !== rule.target_queue)!;

  test.each<[string, (r: any) => void, string[]]>([
    ['a changed pattern', (r) => (r.rules[ruleKey].pattern = { source: ['elsewhere'] }), [`rule ${ruleKey} EventPattern`]],
    ['a pattern with one more field', (r) => (r.rules[ruleKey].pattern.detail = { kind: ['x'] }), [`rule ${ruleKey} EventPattern`]],
    ['a changed description', (r) => (r.rules[ruleKey].description = 'something else'), [`rule ${ruleKey} Description`]],
    [
      'another target queue',
      (r) => (r.rules[ruleKey].target_queue = otherQueue),
      [
        `rule ${ruleKey} target is queue ${rule.target_queue}`,
        `queue ${rule.target_queue}: rules for which events.amazonaws.com may sqs:SendMessage`,
        `queue ${otherQueue}: rules for which events.amazonaws.com may sqs:SendMessage`,
      ],
    ],
    ['a missing rule', (r) => delete r.rules[ruleKey], ['number of EventBridge rules', `rule ${ruleKey}: no rule named hubble-${ruleKey}`]],
    ['an extra rule', (r) => (r.rules[`${ruleKey}-copy`] = clone(rule)), ['number of EventBridge rules']],
  ])('%s is reported', (_what, mutate, messages) => {
    const changed = clone(resources);
    mutate(changed);
    const report = checkParity(synth({}, changed).json, resources, 'hubble').join('\n');
    for (const m of messages) expect(report).toContain(m);
  });

  test('a disabled rule, an input transformer and a queue policy not scoped to the rule are reported', () => {
    const json = clone(synth().json);
    const [, deployed] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::Events::Rule')!;
    deployed.Properties.State = 'DISABLED';
    deployed.Properties.Targets[0].InputPath = '$.detail';
    for (const r of Object.values(json.Resources).filter((x) => x.Type === 'AWS::SQS::QueuePolicy')) {
      for (const st of r.Properties.PolicyDocument.Statement) {
        if (st.Principal?.Service === 'events.amazonaws.com') delete st.Condition;
      }
    }
    const report = checkParity(json, resources, 'hubble').join('\n');
    expect(report).toContain(`rule ${ruleKey} State`);
    expect(report).toContain(`rule ${ruleKey} target fields`);
    expect(report).toContain('<not scoped to a rule');
  });

  test('a pattern using detail-type, nested detail and content filters is deployed as written', () => {
    const changed = clone(resources);
    changed.rules[ruleKey] = {
      ...rule,
      pattern: {
        source: ['hubblewave'],
        'detail-type': ['record.created', 'record.updated'],
        detail: { tenant_id: [{ prefix: 't-' }], data: { status: [{ 'anything-but': 'draft' }] } },
      },
    };
    const { json } = synth({}, changed);
    expect(checkParity(json, changed, 'hubble')).toEqual([]);
    const [, deployed] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::Events::Rule')!;
    expect(deployed.Properties.EventPattern).toEqual(changed.rules[ruleKey].pattern);
  });
});

describe('the parity check detects divergence of dead-letter queue access', () => {
  const [fnKey, fn] = Object.entries(resources.functions).find(([, f]) => (f.dead_letter_queues ?? []).length > 0)!;
  const queue = fn.dead_letter_queues![0];
  const dlqEnv = resources.queues[queue].dlq_env!;
  const otherFn = Object.keys(resources.functions).find((k) => !(resources.functions[k].dead_letter_queues ?? []).includes(queue))!;

  test.each<[string, (r: any) => void, string[]]>([
    [
      'a function that no longer dead-letters',
      (r) => delete r.functions[fnKey].dead_letter_queues,
      [`function ${fnKey} environment variable names`, `function ${fnKey} actions on dead-letter queue ${queue}`],
    ],
    [
      'another function that dead-letters',
      (r) => (r.functions[otherFn].dead_letter_queues = [queue]),
      [`function ${otherFn} environment variable names`, `function ${otherFn} actions on dead-letter queue ${queue}`],
    ],
    ['a renamed dlq_env', (r) => (r.queues[queue].dlq_env = `${dlqEnv}_RENAMED`), [`function ${fnKey} environment variable names`]],
  ])('%s is reported', (_what, mutate, messages) => {
    const changed = clone(resources);
    mutate(changed);
    const report = checkParity(synth({}, changed).json, resources, 'hubble').join('\n');
    for (const m of messages) expect(report).toContain(m);
  });

  test('an environment variable pointing at the main queue, or more than SendMessage on the DLQ, is reported', () => {
    const json = clone(synth().json);
    const [, lambda] = Object.entries(json.Resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `hubble-${fnKey}`,
    )!;
    const vars = lambda.Properties.Environment.Variables;
    vars[dlqEnv] = vars[resources.queues[queue].env];
    for (const p of Object.values(json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
      for (const st of p.Properties.PolicyDocument.Statement) {
        if (st.Action === 'sqs:SendMessage') st.Action = ['sqs:ReceiveMessage', 'sqs:SendMessage'];
      }
    }
    const report = checkParity(json, resources, 'hubble').join('\n');
    expect(report).toContain(`function ${fnKey} environment ${dlqEnv} has an unexpected value`);
    expect(report).toContain(`function ${fnKey} actions on dead-letter queue ${queue}: expected ["sqs:SendMessage"]`);
  });
});

describe('the parity check detects divergence of dead-letter queue alarms', () => {
  const queueKey = Object.keys(resources.queues)[0];
  const dlqName = `hubble-${resources.queues[queueKey].name}-dlq`;
  const rate = { metric: 'sent', threshold: 50, period_seconds: 600, description: 'many letters at once' } as const;
  const withRate = clone(resources);
  (withRate.queues[queueKey] as any).dlq_alarm = rate;

  /** the alarm on `queueKey`'s DLQ in a (copied) template */
  const dlqAlarm = (json: CfnTemplate) => {
    const [dlqId] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties.QueueName === dlqName)!;
    return Object.values(json.Resources).find(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties.Dimensions ?? []).includes(`"${dlqId}"`),
    )!;
  };

  test('a rate alarm is deployed as declared', () => {
    const { json } = synth({}, withRate);
    expect(checkParity(json, withRate, 'hubble')).toEqual([]);
    expect(dlqAlarm(json).Properties).toMatchObject({
      MetricName: 'NumberOfMessagesSent',
      Statistic: 'Sum',
      Threshold: 50,
      Period: 600,
      AlarmDescription: 'many letters at once',
    });
  });

  test.each<[string, (a: any) => void, string[]]>([
    ['the default alarm declared as a rate alarm', (a) => (a.dlq_alarm = rate), ['MetricName', 'Statistic', 'Threshold', 'Period']],
    ['another threshold', (a) => (a.dlq_alarm = { metric: 'visible', threshold: 5 }), ['Threshold: expected 1, template has 5']],
    ['another period', (a) => (a.dlq_alarm = { metric: 'visible', threshold: 1, period_seconds: 60 }), ['Period: expected 300, template has 60']],
    [
      'the other metric',
      (a) => (a.dlq_alarm = { metric: 'sent', threshold: 1 }),
      ['MetricName: expected "ApproximateNumberOfMessagesVisible", template has "NumberOfMessagesSent"', 'Statistic: expected "Maximum", template has "Sum"'],
    ],
  ])('%s is reported', (_what, mutate, messages) => {
    const changed = clone(resources);
    mutate(changed.queues[queueKey]);
    const report = checkParity(synth({}, changed).json, resources, 'hubble').join('\n');
    for (const m of messages) expect(report).toContain(`queue ${queueKey} DLQ alarm ${m}`);
  });

  test('a rate alarm deployed as the default, or with another description, is reported', () => {
    const report = checkParity(synth().json, withRate, 'hubble').join('\n');
    for (const m of ['MetricName', 'Statistic', 'Threshold', 'Period', 'AlarmDescription']) {
      expect(report).toContain(`queue ${queueKey} DLQ alarm ${m}`);
    }
  });

  test('a template whose alarm has another threshold, metric, statistic, period, comparison or missing-data rule is reported', () => {
    const json = clone(synth({}, withRate).json);
    Object.assign(dlqAlarm(json).Properties, {
      Threshold: 49,
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmDescription: 'edited',
    });
    const report = checkParity(json, withRate, 'hubble');
    for (const m of [
      'Threshold: expected 50, template has 49',
      'MetricName: expected "NumberOfMessagesSent"',
      'Statistic: expected "Sum"',
      'Period: expected 600',
      'ComparisonOperator: expected "GreaterThanOrEqualToThreshold"',
      'TreatMissingData: expected "notBreaching"',
      'AlarmDescription: expected "many letters at once"',
    ]) {
      expect(report).toContainEqual(expect.stringContaining(`queue ${queueKey} DLQ alarm ${m}`));
    }
  });

  test('a DLQ with no alarm, or with two, is reported', () => {
    const json = clone(synth().json);
    const alarm = dlqAlarm(json);
    const id = Object.keys(json.Resources).find((k) => json.Resources[k] === alarm)!;
    json.Resources[`${id}Copy`] = clone(alarm);
    expect(checkParity(json, resources, 'hubble')).toContain(`queue ${queueKey}: expected one alarm on its DLQ, template has 2`);
    delete json.Resources[`${id}Copy`];
    delete json.Resources[id];
    expect(checkParity(json, resources, 'hubble')).toContain(`queue ${queueKey}: expected one alarm on its DLQ, template has 0`);
  });
});

describe('the parity check detects divergence of buckets', () => {
  const [bucketKey, bucket] = Object.entries(resources.buckets).find(([, b]) => (b.notifications ?? []).length > 0)!;
  const target = bucket.notifications![0].target_queue;
  const otherQueue = Object.keys(resources.queues).find((q) => q !== target)!;
  const sqsQueue = Object.entries(resources.functions).find(([, f]) => f.trigger.type === 'sqs')![1].trigger as { queue: string };

  /** the manifest with one more function, which uses the bucket when `buckets` says so */
  const withFunction = (buckets: string[]): Resources => {
    const r = clone(resources) as any;
    r.functions['bucket-user'] = {
      memory_mb: 256,
      timeout_seconds: 60,
      tables: [],
      event_bus: false,
      kms_keys: [],
      queues: [],
      buckets,
      trigger: { type: 'sqs', queue: sqsQueue.queue, batch_size: 1, report_batch_item_failures: true },
    };
    return validateResources(r);
  };

  test.each<[string, (r: any) => void, string[]]>([
    ['another expiration', (r) => (r.buckets[bucketKey].expiration = [{ prefix: 'uploads/', days: 99 }]), [`bucket ${bucketKey} LifecycleConfiguration`]],
    ['another multipart abort', (r) => (r.buckets[bucketKey].abort_incomplete_multipart_days += 1), [`bucket ${bucketKey} LifecycleConfiguration`]],
    ['another notification prefix', (r) => (r.buckets[bucketKey].notifications[0].prefix = 'elsewhere/'), [`bucket ${bucketKey} notifications`]],
    [
      'a notification to another queue',
      (r) => (r.buckets[bucketKey].notifications[0].target_queue = otherQueue),
      [
        `bucket ${bucketKey} notifications`,
        `queue ${target}: buckets for which s3.amazonaws.com may sqs:SendMessage`,
        `queue ${otherQueue}: buckets for which s3.amazonaws.com may sqs:SendMessage`,
      ],
    ],
    [
      'no notifications',
      (r) => delete r.buckets[bucketKey].notifications,
      [`bucket ${bucketKey} notification kinds`, `bucket ${bucketKey} notifications`, `queue ${target}: buckets for which s3.amazonaws.com`],
    ],
    [
      'an extra bucket',
      (r) => (r.buckets[`${bucketKey}-copy`] = { ...clone(r.buckets[bucketKey]), env: 'HUBBLE_COPY_BUCKET', name: 'copy', notifications: [] }),
      ['number of S3 buckets'],
    ],
  ])('%s is reported', (_what, mutate, messages) => {
    const changed = clone(resources);
    mutate(changed);
    const report = checkParity(synth({}, changed).json, resources, 'hubble').join('\n');
    for (const m of messages) expect(report).toContain(m);
  });

  test('a function given the bucket, or deprived of it, is reported (environment and S3 permissions)', () => {
    const using = withFunction([bucketKey]);
    const notUsing = withFunction([]);
    const usingTemplate = synth({}, using).json;
    expect(checkParity(usingTemplate, using, 'hubble')).toEqual([]);
    const extra = checkParity(usingTemplate, notUsing, 'hubble').join('\n');
    expect(extra).toContain('function bucket-user environment variable names');
    expect(extra).toContain(`function bucket-user actions on bucket ${bucketKey}: expected []`);
    const missing = checkParity(synth({}, notUsing).json, using, 'hubble').join('\n');
    expect(missing).toContain('function bucket-user environment variable names');
    for (const a of ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']) {
      expect(missing).toContain(`function bucket-user ${a} on the objects of bucket ${bucketKey}`);
    }
  });

  test('a template whose bucket is public, named, versioned, unencrypted, deleted with the stack, without ETag or TLS rule, is reported', () => {
    const json = clone(synth().json);
    const [bucketId, b] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::S3::Bucket')!;
    b.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets = false;
    b.Properties.BucketName = 'hubble-files';
    b.Properties.VersioningConfiguration = { Status: 'Enabled' };
    delete b.Properties.BucketEncryption;
    b.DeletionPolicy = 'Delete';
    b.Properties.CorsConfiguration.CorsRules[0].ExposedHeaders = [];
    for (const r of Object.values(json.Resources).filter((x) => x.Type === 'AWS::S3::BucketPolicy')) r.Properties.PolicyDocument.Statement = [];
    for (const r of Object.values(json.Resources).filter((x) => x.Type === 'AWS::SQS::QueuePolicy')) {
      for (const st of r.Properties.PolicyDocument.Statement) {
        if (st.Principal?.Service === 's3.amazonaws.com') delete st.Condition;
      }
    }
    expect(bucketId).toBeDefined();
    const report = checkParity(json, resources, 'hubble').join('\n');
    for (const m of [
      'PublicAccessBlockConfiguration',
      'BucketName',
      'versioning',
      'encryption',
      'DeletionPolicy',
      'CorsConfiguration',
      'bucket policy denies requests without TLS',
      '<not scoped to a bucket',
    ]) {
      expect(report).toContain(`${m.startsWith('<') ? '' : `bucket ${bucketKey} `}${m}`);
    }
  });
});

describe('the parity check detects divergence of schedules managed by functions', () => {
  const [fnKey, fn] = Object.entries(resources.functions).find(([, f]) => (f.scheduler_targets ?? []).length > 0)!;
  const target = fn.scheduler_targets![0];
  const arnEnv = resources.queues[target].arn_env!;
  // another function, made to send to the target queue so that it may schedule messages to it
  const otherFn = Object.keys(resources.functions).find((k) => (resources.functions[k].scheduler_targets ?? []).length === 0)!;

  test('resources.json has a function with scheduler_targets', () => {
    expect(fn.scheduler_targets).toContain(target);
  });

  test.each<[string, (r: any) => void, string[]]>([
    [
      'a function that no longer schedules',
      (r) => delete r.functions[fnKey].scheduler_targets,
      [`function ${fnKey} environment variable names`, `function ${fnKey} scheduler permissions`, `function ${fnKey} iam:PassRole`, 'number of roles EventBridge Scheduler may assume'],
    ],
    [
      'another function that schedules',
      (r) => {
        r.functions[otherFn].queues = [...r.functions[otherFn].queues.filter((q: string) => q !== target), target];
        r.functions[otherFn].scheduler_targets = [target];
      },
      [`function ${otherFn} environment variable names`, `function ${otherFn} scheduler permissions`, `function ${otherFn} iam:PassRole`, 'number of roles EventBridge Scheduler may assume'],
    ],
    ['a renamed arn_env', (r) => (r.queues[target].arn_env = `${arnEnv}_RENAMED`), [`function ${fnKey} environment variable names`]],
  ])('%s is reported', (_what, mutate, messages) => {
    const changed = clone(resources);
    mutate(changed);
    const report = checkParity(synth({}, changed).json, resources, 'hubble').join('\n');
    for (const m of messages) expect(report).toContain(m);
  });

  test('a template whose scheduler permissions, PassRole, trust or role policy are too wide, or whose ARN variables point elsewhere, is reported', () => {
    const json = clone(synth().json);
    const lambda = Object.values(json.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `hubble-${fnKey}`)!;
    const vars = lambda.Properties.Environment.Variables;
    const roleId = vars.HUBBLE_SCHEDULER_ROLE_ARN['Fn::GetAtt'][0];
    vars[arnEnv] = vars[resources.queues[target].env];
    for (const p of Object.values(json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
      for (const st of p.Properties.PolicyDocument.Statement) {
        if (JSON.stringify(st.Action).includes('scheduler:CreateSchedule')) st.Resource = '*';
        if (st.Action === 'iam:PassRole') delete st.Condition;
        if (p.Properties.Roles.some((r: any) => r.Ref === roleId)) st.Action = ['sqs:SendMessage', 'sqs:ReceiveMessage'];
      }
    }
    json.Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Condition = {};
    const report = checkParity(json, resources, 'hubble').join('\n');
    for (const m of [
      `function ${fnKey} environment ${arnEnv} has an unexpected value`,
      `function ${fnKey} scheduler permissions`,
      `function ${fnKey} iam:PassRole`,
      `function ${fnKey} scheduler role trust policy`,
      `function ${fnKey} scheduler role actions on queue ${target}`,
    ]) {
      expect(report).toContain(m);
    }
  });

  test('a scheduler role that may send to another queue is reported', () => {
    const json = clone(synth().json);
    const lambda = Object.values(json.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === `hubble-${fnKey}`)!;
    const roleId = lambda.Properties.Environment.Variables.HUBBLE_SCHEDULER_ROLE_ARN['Fn::GetAtt'][0];
    const [otherQueueId] = Object.entries(json.Resources).find(
      ([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties.QueueName !== `hubble-${resources.queues[target].name}`,
    )!;
    const policy = Object.values(json.Resources).find((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))!;
    policy.Properties.PolicyDocument.Statement.push({ Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [otherQueueId, 'Arn'] } });
    const report = checkParity(json, resources, 'hubble').join('\n');
    expect(report).toContain(`function ${fnKey} scheduler role statements on anything but its queues`);
  });
});
