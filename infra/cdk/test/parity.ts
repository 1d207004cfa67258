/**
 * Compares a synthesized template with resources.json, independently of the code in lib/: everything expected is
 * derived here from the JSON. Returns one message per divergence (empty = the template deploys exactly what
 * resources.json declares).
 */
import { isDeepStrictEqual } from 'node:util';
import { QueueSpec, Resources } from '../lib/resources';
import { CfnTemplate, actionMatches, actionsOn, allows, allowsMatching, asArray, findOne, isRef, mentions, ofType, statementsOfRole } from './helpers';

type Key = { name: string; type: string };

function keySchema(pk: Key, sk?: Key) {
  return [{ AttributeName: pk.name, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : [])];
}

/** An ARN expression as text: `Fn::Join` flattened, `Ref`s written `${Name}` (e.g. `${AWS::AccountId}`). */
function arnText(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as Record<string, any>;
  if (typeof o.Ref === 'string') return `\${${o.Ref}}`;
  if (Array.isArray(o['Fn::Join'])) return asArray<unknown>(o['Fn::Join'][1]).map(arnText).join(o['Fn::Join'][0]);
  return JSON.stringify(v);
}

const SCHEDULE_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'];

function eq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const byName = (a: { AttributeName?: string; IndexName?: string }, b: typeof a) =>
  String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName));

/**
 * The CloudWatch shape of a DLQ alarm, written out here from the manifest's words (not with lib/'s helpers): `visible`
 * = ApproximateNumberOfMessagesVisible (Maximum), `sent` = NumberOfMessagesSent (Sum); absent = visible, threshold 1;
 * period 300 s unless given.
 */
function dlqAlarmExpectation(a: QueueSpec['dlq_alarm']) {
  const metric = a?.metric ?? 'visible';
  return {
    metricName: metric === 'sent' ? 'NumberOfMessagesSent' : 'ApproximateNumberOfMessagesVisible',
    statistic: metric === 'sent' ? 'Sum' : 'Maximum',
    threshold: a?.threshold ?? 1,
    period: a?.period_seconds ?? 300,
    description: a?.description,
  };
}

export function checkParity(tpl: CfnTemplate, res: Resources, prefix: string): string[] {
  const errors: string[] = [];
  const expectEq = (where: string, actual: unknown, expected: unknown) => {
    if (!eq(actual, expected)) {
      errors.push(`${where}: expected ${JSON.stringify(expected)}, template has ${JSON.stringify(actual)}`);
    }
  };
  const name = (n: string) => `${prefix}-${n}`;

  // ---------------------------------------------------------------- tables
  const tableIds: Record<string, string> = {};
  expectEq('number of DynamoDB tables', ofType(tpl, 'AWS::DynamoDB::GlobalTable').length + ofType(tpl, 'AWS::DynamoDB::Table').length, Object.keys(res.tables).length);
  for (const [key, t] of Object.entries(res.tables)) {
    const w = `table ${key}`;
    const found =
      findOne(tpl, 'AWS::DynamoDB::GlobalTable', (p) => p.TableName === name(t.name)) ??
      findOne(tpl, 'AWS::DynamoDB::Table', (p) => p.TableName === name(t.name));
    if (!found) {
      errors.push(`${w}: no table named ${name(t.name)}`);
      continue;
    }
    const [id, r] = found;
    tableIds[key] = id;
    const p = r.Properties;
    expectEq(`${w} KeySchema`, p.KeySchema, keySchema(t.partition_key, t.sort_key));
    const attrs = new Map<string, string>();
    for (const k of [t.partition_key, t.sort_key, ...t.global_secondary_indexes.flatMap((g) => [g.partition_key, g.sort_key])]) {
      if (k) attrs.set(k.name, k.type);
    }
    expectEq(
      `${w} AttributeDefinitions`,
      [...asArray<any>(p.AttributeDefinitions)].sort(byName),
      [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })).sort(byName),
    );
    expectEq(
      `${w} GlobalSecondaryIndexes`,
      asArray<any>(p.GlobalSecondaryIndexes)
        .map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection }))
        .sort(byName),
      t.global_secondary_indexes
        .map((g) => ({
          IndexName: g.name,
          KeySchema: keySchema(g.partition_key, g.sort_key),
          Projection: { ProjectionType: g.projection },
        }))
        .sort(byName),
    );
    expectEq(
      `${w} TimeToLiveSpecification`,
      p.TimeToLiveSpecification ?? null,
      t.ttl_attribute ? { AttributeName: t.ttl_attribute, Enabled: true } : null,
    );
    expectEq(`${w} BillingMode`, p.BillingMode, 'PAY_PER_REQUEST');
    const pitr =
      r.Type === 'AWS::DynamoDB::GlobalTable'
        ? asArray<any>(p.Replicas).length > 0 &&
          asArray<any>(p.Replicas).every((rep) => rep.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true)
        : p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true;
    expectEq(`${w} point-in-time recovery`, pitr, true);
    expectEq(`${w} DeletionPolicy`, r.DeletionPolicy, 'Retain');
  }

  // ---------------------------------------------------------------- event bus
  const bus = findOne(tpl, 'AWS::Events::EventBus', (p) => p.Name === name(res.event_bus.name));
  if (!bus) errors.push(`event bus: no bus named ${name(res.event_bus.name)}`);
  const busId = bus?.[0] ?? '<missing bus>';

  // ---------------------------------------------------------------- kms keys
  const keyIds: Record<string, string> = {};
  for (const [key, k] of Object.entries(res.kms_keys)) {
    const aliasName = `alias/${name(k.alias)}`;
    const alias = findOne(tpl, 'AWS::KMS::Alias', (p) => p.AliasName === aliasName);
    if (!alias) {
      errors.push(`kms key ${key}: no alias ${aliasName}`);
      continue;
    }
    const target = ofType(tpl, 'AWS::KMS::Key').find(([id]) => isRef(alias[1].Properties.TargetKeyId, id));
    if (!target) {
      errors.push(`kms key ${key}: alias ${aliasName} does not target a key of this stack`);
      continue;
    }
    keyIds[key] = target[0];
    expectEq(`kms key ${key} EnableKeyRotation`, target[1].Properties.EnableKeyRotation, true);
  }
  expectEq('number of KMS keys', ofType(tpl, 'AWS::KMS::Key').length, Object.keys(res.kms_keys).length);

  // ---------------------------------------------------------------- queues
  const queueIds: Record<string, string> = {};
  const dlqIds: Record<string, string> = {};
  expectEq('number of SQS queues (queues + DLQs)', ofType(tpl, 'AWS::SQS::Queue').length, 2 * Object.keys(res.queues).length);
  for (const [key, q] of Object.entries(res.queues)) {
    const w = `queue ${key}`;
    const main = findOne(tpl, 'AWS::SQS::Queue', (p) => p.QueueName === name(q.name));
    const dlq = findOne(tpl, 'AWS::SQS::Queue', (p) => p.QueueName === name(`${q.name}-dlq`));
    if (!main || !dlq) {
      errors.push(`${w}: missing ${!main ? name(q.name) : ''} ${!dlq ? name(`${q.name}-dlq`) : ''}`.trim());
      continue;
    }
    queueIds[key] = main[0];
    dlqIds[key] = dlq[0];
    const mp = main[1].Properties;
    expectEq(`${w} VisibilityTimeout`, mp.VisibilityTimeout, q.visibility_timeout_seconds);
    expectEq(`${w} RedrivePolicy.maxReceiveCount`, mp.RedrivePolicy?.maxReceiveCount, q.max_receive_count);
    expectEq(`${w} RedrivePolicy targets its DLQ`, isRef(mp.RedrivePolicy?.deadLetterTargetArn, dlq[0], 'Arn'), true);
    expectEq(`${w} SqsManagedSseEnabled`, mp.SqsManagedSseEnabled, true);
    expectEq(`${w} DLQ MessageRetentionPeriod`, dlq[1].Properties.MessageRetentionPeriod, q.dlq_retention_seconds);
    expectEq(`${w} DLQ SqsManagedSseEnabled`, dlq[1].Properties.SqsManagedSseEnabled, true);

    // exactly one alarm on the DLQ, of the shape dlq_alarm declares (absent: any visible message over 5 minutes)
    const expected = dlqAlarmExpectation(q.dlq_alarm);
    const alarms = ofType(tpl, 'AWS::CloudWatch::Alarm').filter(
      ([, a]) =>
        a.Properties?.Namespace === 'AWS/SQS' &&
        asArray<any>(a.Properties?.Dimensions).some((d) => d.Name === 'QueueName' && isRef(d.Value, dlq[0], 'QueueName')),
    );
    if (alarms.length !== 1) errors.push(`${w}: expected one alarm on its DLQ, template has ${alarms.length}`);
    else {
      const ap = alarms[0][1].Properties;
      expectEq(`${w} DLQ alarm MetricName`, ap.MetricName, expected.metricName);
      expectEq(`${w} DLQ alarm Statistic`, ap.Statistic, expected.statistic);
      expectEq(`${w} DLQ alarm Threshold`, ap.Threshold, expected.threshold);
      expectEq(`${w} DLQ alarm Period`, ap.Period, expected.period);
      expectEq(`${w} DLQ alarm ComparisonOperator`, ap.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
      expectEq(`${w} DLQ alarm EvaluationPeriods`, ap.EvaluationPeriods, 1);
      expectEq(`${w} DLQ alarm TreatMissingData`, ap.TreatMissingData, 'notBreaching');
      if (expected.description !== undefined) expectEq(`${w} DLQ alarm AlarmDescription`, ap.AlarmDescription, expected.description);
    }
  }

  // ---------------------------------------------------------------- schedules
  expectEq('number of schedules', ofType(tpl, 'AWS::Scheduler::Schedule').length, Object.keys(res.schedules).length);
  for (const [key, s] of Object.entries(res.schedules)) {
    const w = `schedule ${key}`;
    const found = findOne(tpl, 'AWS::Scheduler::Schedule', (p) => p.Name === name(key));
    if (!found) {
      errors.push(`${w}: no schedule named ${name(key)}`);
      continue;
    }
    const p = found[1].Properties;
    expectEq(`${w} ScheduleExpression`, p.ScheduleExpression, s.expression);
    expectEq(`${w} FlexibleTimeWindow`, p.FlexibleTimeWindow, { Mode: 'OFF' });
    const queueId = queueIds[s.target_queue];
    expectEq(`${w} Target.Arn is queue ${s.target_queue}`, isRef(p.Target?.Arn, queueId, 'Arn'), true);
    let input: unknown = undefined;
    try {
      input = JSON.parse(p.Target?.Input);
    } catch {
      errors.push(`${w}: Target.Input is not JSON: ${p.Target?.Input}`);
    }
    expectEq(`${w} Target.Input`, input, s.input);
    const role = ofType(tpl, 'AWS::IAM::Role').find(([id]) => isRef(p.Target?.RoleArn, id, 'Arn'));
    if (!role) {
      errors.push(`${w}: Target.RoleArn is not a role of this stack`);
      continue;
    }
    const trust = asArray<any>(role[1].Properties.AssumeRolePolicyDocument.Statement);
    expectEq(`${w} role trusts scheduler.amazonaws.com`, trust.some((st) => st.Principal?.Service === 'scheduler.amazonaws.com'), true);
    expectEq(`${w} role may sqs:SendMessage to its queue`, allows(statementsOfRole(tpl, role[0]), 'sqs:SendMessage', queueId), true);
  }

  // ---------------------------------------------------------------- rules
  const ruleIds: Record<string, string> = {};
  expectEq('number of EventBridge rules', ofType(tpl, 'AWS::Events::Rule').length, Object.keys(res.rules).length);
  for (const [key, rule] of Object.entries(res.rules)) {
    const w = `rule ${key}`;
    const found = findOne(tpl, 'AWS::Events::Rule', (p) => p.Name === name(key));
    if (!found) {
      errors.push(`${w}: no rule named ${name(key)}`);
      continue;
    }
    const [ruleId, r] = found;
    ruleIds[key] = ruleId;
    const p = r.Properties;
    expectEq(`${w} Description`, p.Description ?? null, rule.description ?? null);
    expectEq(`${w} is on the bus`, isRef(p.EventBusName, busId) || isRef(p.EventBusName, busId, 'Name'), true);
    // exactly the pattern of resources.json (key order aside)
    if (!isDeepStrictEqual(p.EventPattern, rule.pattern)) {
      errors.push(`${w} EventPattern: expected ${JSON.stringify(rule.pattern)}, template has ${JSON.stringify(p.EventPattern)}`);
    }
    expectEq(`${w} State`, p.State, 'ENABLED');
    const targets = asArray<any>(p.Targets);
    expectEq(`${w} number of targets`, targets.length, 1);
    expectEq(`${w} target is queue ${rule.target_queue}`, isRef(targets[0]?.Arn, queueIds[rule.target_queue], 'Arn'), true);
    // the event is delivered as published: no input, input path or transformer
    expectEq(`${w} target fields`, Object.keys(targets[0] ?? {}).sort(), ['Arn', 'Id']);
  }

  // queue policies: events.amazonaws.com may send to a queue exactly for the rules that target it
  const policyStatements = (queueId: string) =>
    ofType(tpl, 'AWS::SQS::QueuePolicy')
      .filter(([, qp]) => asArray(qp.Properties.Queues).some((q) => isRef(q, queueId)))
      .flatMap(([, qp]) => asArray<any>(qp.Properties.PolicyDocument.Statement));
  const sendingRules = (queueId: string) =>
    policyStatements(queueId)
      .filter(
        (st) =>
          st.Effect === 'Allow' &&
          asArray(st.Principal?.Service).includes('events.amazonaws.com') &&
          asArray(st.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*') &&
          asArray(st.Resource).some((r) => isRef(r, queueId, 'Arn')),
      )
      .map((st) => {
        const source = st.Condition?.ArnEquals?.['aws:SourceArn'];
        const rule = Object.entries(ruleIds).find(([, id]) => isRef(source, id, 'Arn'));
        return rule ? rule[0] : `<not scoped to a rule: ${JSON.stringify(st.Condition ?? null)}>`;
      })
      .sort();
  for (const [q, queueId] of Object.entries(queueIds)) {
    expectEq(
      `queue ${q}: rules for which events.amazonaws.com may sqs:SendMessage`,
      sendingRules(queueId),
      Object.entries(res.rules)
        .filter(([, r]) => r.target_queue === q)
        .map(([k]) => k)
        .sort(),
    );
  }
  for (const [q, dlqId] of Object.entries(dlqIds)) {
    expectEq(`queue ${q} DLQ: rules for which events.amazonaws.com may sqs:SendMessage`, sendingRules(dlqId), []);
  }

  // ---------------------------------------------------------------- buckets
  // Bucket names are generated by CloudFormation: a bucket is found through the stack output that carries its name,
  // described by the bucket's `env`.
  const bucketIds: Record<string, string> = {};
  const notificationResources = ofType(tpl, 'Custom::S3BucketNotifications');
  expectEq('number of S3 buckets', ofType(tpl, 'AWS::S3::Bucket').length, Object.keys(res.buckets).length);
  for (const [key, b] of Object.entries(res.buckets)) {
    const w = `bucket ${key}`;
    const outputs = Object.values(tpl.Outputs ?? {}).filter((o) => o.Description === b.env);
    const found = ofType(tpl, 'AWS::S3::Bucket').filter(([id]) => outputs.some((o) => isRef(o.Value, id)));
    if (found.length !== 1) {
      errors.push(`${w}: expected one bucket whose name is the output described ${b.env}, template has ${found.length}`);
      continue;
    }
    const [bucketId, r] = found[0];
    bucketIds[key] = bucketId;
    const p = r.Properties ?? {};
    // bucket names are global: never fixed in the template
    expectEq(`${w} BucketName`, p.BucketName ?? null, null);
    expectEq(`${w} PublicAccessBlockConfiguration`, p.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expectEq(
      `${w} encryption`,
      asArray<any>(p.BucketEncryption?.ServerSideEncryptionConfiguration).map((c) => c.ServerSideEncryptionByDefault?.SSEAlgorithm),
      ['AES256'],
    );
    expectEq(`${w} versioning`, p.VersioningConfiguration?.Status ?? 'off', 'off');
    expectEq(`${w} DeletionPolicy`, r.DeletionPolicy, 'Retain');

    // lifecycle: one expiration per manifest entry and one rule aborting incomplete multipart uploads (rule ids aside)
    const lifecycle = asArray<any>(p.LifecycleConfiguration?.Rules)
      .map((lr) => ({
        status: lr.Status,
        prefix: lr.Prefix ?? lr.Filter?.Prefix ?? null,
        expirationDays: lr.ExpirationInDays ?? null,
        abortDays: lr.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
        other: Object.keys(lr)
          .filter((k) => !['Id', 'Status', 'Prefix', 'Filter', 'ExpirationInDays', 'AbortIncompleteMultipartUpload'].includes(k))
          .sort(),
      }))
      .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    const expectedLifecycle = [
      ...(b.expiration ?? []).map((e) => ({ status: 'Enabled', prefix: e.prefix, expirationDays: e.days, abortDays: null, other: [] })),
      { status: 'Enabled', prefix: null, expirationDays: null, abortDays: b.abort_incomplete_multipart_days, other: [] },
    ].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    expectEq(`${w} LifecycleConfiguration`, lifecycle, expectedLifecycle);

    // CORS: presigned PUT (parts) and GET from any origin, any header, the part ETags readable
    const cors = asArray<any>(p.CorsConfiguration?.CorsRules).map((c) => ({
      methods: [...asArray<string>(c.AllowedMethods)].sort(),
      origins: c.AllowedOrigins,
      headers: c.AllowedHeaders,
      exposed: c.ExposedHeaders,
    }));
    expectEq(`${w} CorsConfiguration`, cors, [{ methods: ['GET', 'PUT'], origins: ['*'], headers: ['*'], exposed: ['ETag'] }]);

    // TLS only
    const denyInsecure = ofType(tpl, 'AWS::S3::BucketPolicy')
      .filter(([, bp]) => isRef(bp.Properties.Bucket, bucketId))
      .flatMap(([, bp]) => asArray<any>(bp.Properties.PolicyDocument.Statement))
      .some((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false' && asArray(st.Action).includes('s3:*'));
    expectEq(`${w} bucket policy denies requests without TLS`, denyInsecure, true);

    // notifications: s3:ObjectCreated:* under each prefix to its queue, nothing else
    const configs = notificationResources.filter(([, n]) => isRef(n.Properties.BucketName, bucketId));
    if (configs.length > 1) errors.push(`${w}: ${configs.length} notification configurations`);
    const nc = configs[0]?.[1].Properties.NotificationConfiguration ?? {};
    expectEq(`${w} notification kinds`, Object.keys(nc).filter((k) => asArray(nc[k]).length > 0).sort(), (b.notifications ?? []).length > 0 ? ['QueueConfigurations'] : []);
    const queueOf = (arn: unknown) => Object.entries(queueIds).find(([, id]) => isRef(arn, id, 'Arn'))?.[0] ?? `<not a manifest queue: ${JSON.stringify(arn)}>`;
    const byJson = (x: unknown, y: unknown) => JSON.stringify(x).localeCompare(JSON.stringify(y));
    expectEq(
      `${w} notifications`,
      asArray<any>(nc.QueueConfigurations)
        .map((q) => ({
          events: q.Events,
          filter: asArray<any>(q.Filter?.Key?.FilterRules).map((fr) => [String(fr.Name).toLowerCase(), fr.Value]),
          queue: queueOf(q.QueueArn),
        }))
        .sort(byJson),
      (b.notifications ?? []).map((n) => ({ events: ['s3:ObjectCreated:*'], filter: [['prefix', n.prefix]], queue: n.target_queue })).sort(byJson),
    );
  }
  if (notificationResources.some(([, n]) => !Object.values(bucketIds).some((id) => isRef(n.Properties.BucketName, id)))) {
    errors.push('a bucket notification configuration of a bucket that is not in resources.json');
  }

  // queue policies: s3.amazonaws.com may send to a queue exactly for the buckets that notify it
  const notifyingBuckets = (queueId: string) =>
    policyStatements(queueId)
      .filter(
        (st) =>
          st.Effect === 'Allow' &&
          asArray(st.Principal?.Service).includes('s3.amazonaws.com') &&
          asArray(st.Action).some((a) => a === 'sqs:SendMessage' || a === 'sqs:*') &&
          asArray(st.Resource).some((r) => isRef(r, queueId, 'Arn')),
      )
      .map((st) => {
        const source = st.Condition?.ArnLike?.['aws:SourceArn'] ?? st.Condition?.ArnEquals?.['aws:SourceArn'];
        const bucket = Object.entries(bucketIds).find(([, id]) => isRef(source, id, 'Arn'));
        return bucket ? bucket[0] : `<not scoped to a bucket: ${JSON.stringify(st.Condition ?? null)}>`;
      })
      .sort();
  for (const [q, queueId] of Object.entries(queueIds)) {
    expectEq(
      `queue ${q}: buckets for which s3.amazonaws.com may sqs:SendMessage`,
      notifyingBuckets(queueId),
      Object.entries(res.buckets)
        .filter(([, b]) => (b.notifications ?? []).some((n) => n.target_queue === q))
        .map(([k]) => k)
        .sort(),
    );
  }
  for (const [q, dlqId] of Object.entries(dlqIds)) {
    expectEq(`queue ${q} DLQ: buckets for which s3.amazonaws.com may sqs:SendMessage`, notifyingBuckets(dlqId), []);
  }

  // ---------------------------------------------------------------- APIs: one HTTP, one WebSocket (when routed)
  const apis = ofType(tpl, 'AWS::ApiGatewayV2::Api');
  const httpApiId = apis.find(([, a]) => a.Properties.ProtocolType === 'HTTP')?.[0];
  const wsApiId = apis.find(([, a]) => a.Properties.ProtocolType === 'WEBSOCKET')?.[0];
  const wsStage = ofType(tpl, 'AWS::ApiGatewayV2::Stage').find(([, st]) => wsApiId !== undefined && isRef(st.Properties.ApiId, wsApiId));

  // ---------------------------------------------------------------- functions
  // CDK's handler of the bucket notification custom resource is a Lambda function too, not one of resources.json
  const notificationHandlers = new Set(
    ofType(tpl, 'AWS::Lambda::Function')
      .filter(([id]) => notificationResources.some(([, n]) => isRef(n.Properties.ServiceToken, id, 'Arn')))
      .map(([id]) => id),
  );
  const fnIds: Record<string, string> = {};
  const schedulerRoleIds = new Set<string>();
  expectEq(
    'number of Lambda functions',
    ofType(tpl, 'AWS::Lambda::Function').filter(([id]) => !notificationHandlers.has(id)).length,
    Object.keys(res.functions).length,
  );
  for (const [key, f] of Object.entries(res.functions)) {
    const w = `function ${key}`;
    const found = findOne(tpl, 'AWS::Lambda::Function', (p) => p.FunctionName === name(key));
    if (!found) {
      errors.push(`${w}: no function named ${name(key)}`);
      continue;
    }
    const [fnId, r] = found;
    fnIds[key] = fnId;
    const p = r.Properties;
    expectEq(`${w} Runtime/Handler/Architectures`, [p.Runtime, p.Handler, p.Architectures], ['provided.al2023', 'bootstrap', ['arm64']]);
    expectEq(`${w} MemorySize`, p.MemorySize, f.memory_mb);
    expectEq(`${w} Timeout`, p.Timeout, f.timeout_seconds);
    expectEq(`${w} TracingConfig`, p.TracingConfig, { Mode: 'Active' });

    // environment: exactly these variables, each pointing at the right resource
    const vars: Record<string, unknown> = p.Environment?.Variables ?? {};
    const expected: Record<string, (v: unknown) => boolean> = {
      RUST_LOG: (v) => v === 'info',
      HUBBLE_LOCAL_MODE: (v) => v === 'false',
      HUBBLE_RESOURCE_PREFIX: (v) => v === prefix,
    };
    for (const t of f.tables) expected[res.tables[t].env] = (v) => isRef(v, tableIds[t]);
    if (f.event_bus) {
      expected[res.event_bus.env] = (v) => isRef(v, busId) || isRef(v, busId, 'Name');
      expected.HUBBLE_EVENT_SOURCE = (v) => v === res.event_bus.source;
    }
    for (const k of f.kms_keys) expected[res.kms_keys[k].env] = (v) => isRef(v, keyIds[k], 'Arn');
    for (const q of f.queues) expected[res.queues[q].env] = (v) => isRef(v, queueIds[q]);
    for (const q of f.dead_letter_queues ?? []) {
      const dlqEnv = res.queues[q].dlq_env;
      if (dlqEnv === undefined) errors.push(`${w}: dead-letters to queue ${q}, which declares no dlq_env`);
      else expected[dlqEnv] = (v) => isRef(v, dlqIds[q]);
    }
    for (const b of f.buckets ?? []) expected[res.buckets[b].env] = (v) => isRef(v, bucketIds[b]);
    // scheduler_targets: the queues' ARNs and the role Scheduler assumes (checked below)
    const targets = f.scheduler_targets ?? [];
    for (const q of targets) {
      const arnEnv = res.queues[q].arn_env;
      if (arnEnv === undefined) errors.push(`${w}: schedules messages to queue ${q}, which declares no arn_env`);
      else expected[arnEnv] = (v) => isRef(v, queueIds[q], 'Arn');
    }
    const roleArn = vars.HUBBLE_SCHEDULER_ROLE_ARN as any;
    const schedulerRoleId: string | undefined = roleArn?.['Fn::GetAtt']?.[1] === 'Arn' ? roleArn['Fn::GetAtt'][0] : undefined;
    if (targets.length > 0) {
      expected.HUBBLE_SCHEDULER_ROLE_ARN = (v) => schedulerRoleId !== undefined && tpl.Resources[schedulerRoleId]?.Type === 'AWS::IAM::Role' && isRef(v, schedulerRoleId, 'Arn');
    }
    // WebSocket: the stage's callback URL to functions that post to connections; the HTTP API's URL as the public
    // base URL to functions on the WebSocket API (tokens name the HTTP API's issuer)
    if (f.websocket_callback) {
      expected[res.websocket_api.env] = (v) =>
        wsApiId !== undefined && mentions(v, wsApiId) && wsStage !== undefined && JSON.stringify(v).includes(`/${wsStage[1].Properties.StageName}`);
    }
    if (f.trigger.type === 'websocket') expected.HUBBLE_PUBLIC_BASE_URL = (v) => httpApiId !== undefined && mentions(v, httpApiId);
    expectEq(`${w} environment variable names`, Object.keys(vars).sort(), Object.keys(expected).sort());
    for (const [k, ok] of Object.entries(expected)) {
      if (k in vars && !ok(vars[k])) errors.push(`${w} environment ${k} has an unexpected value ${JSON.stringify(vars[k])}`);
    }

    // least privilege
    const roleId = asArray(p.Role).map((x: any) => x?.['Fn::GetAtt']?.[0])[0];
    const st = statementsOfRole(tpl, roleId);
    for (const [t, tableId] of Object.entries(tableIds)) {
      const uses = f.tables.includes(t);
      expectEq(`${w} read/write on table ${t}`, allows(st, 'dynamodb:PutItem', tableId) && allows(st, 'dynamodb:Query', tableId), uses);
      if (uses && res.tables[t].global_secondary_indexes.length > 0) {
        const onIndexes = (r: unknown) => JSON.stringify(r).includes('/index/*');
        expectEq(`${w} query on the indexes of table ${t}`, allows(st, 'dynamodb:Query', tableId, onIndexes), true);
      }
    }
    expectEq(`${w} events:PutEvents on the bus`, allows(st, 'events:PutEvents', busId), f.event_bus);
    for (const [k, keyId] of Object.entries(keyIds)) {
      const uses = f.kms_keys.includes(k);
      for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']) {
        expectEq(`${w} ${action} on key ${k}`, allows(st, action, keyId), uses);
      }
    }
    for (const [q, queueId] of Object.entries(queueIds)) {
      expectEq(`${w} sqs:SendMessage on queue ${q}`, allows(st, 'sqs:SendMessage', queueId), f.queues.includes(q));
    }
    // dead-letter queues: sqs:SendMessage and nothing else, only where the function dead-letters on purpose
    for (const [q, dlqId] of Object.entries(dlqIds)) {
      expectEq(`${w} actions on dead-letter queue ${q}`, actionsOn(st, dlqId), (f.dead_letter_queues ?? []).includes(q) ? ['sqs:SendMessage'] : []);
    }

    // execute-api:ManageConnections on the WebSocket stage's connections, only for functions that post to them
    const manages = st.filter((x) => x.Effect === 'Allow' && asArray<string>(x.Action).some((a) => actionMatches(a, 'execute-api:ManageConnections')));
    expectEq(
      `${w} execute-api:ManageConnections on the WebSocket stage`,
      manages.map((x) => asArray(x.Resource).every((r) => wsApiId !== undefined && mentions(r, wsApiId) && JSON.stringify(r).includes('/@connections/'))),
      f.websocket_callback ? [true] : [],
    );

    // buckets: objects read, written, deleted and uploaded in parts (also through the presigned URLs the function signs
    // with its role), the bucket listed; nothing at all on the buckets it does not list
    for (const [b, bucketId] of Object.entries(bucketIds)) {
      const uses = (f.buckets ?? []).includes(b);
      const onObjects = (r: unknown) => JSON.stringify(r).includes('/*');
      const onBucket = (r: unknown) => isRef(r, bucketId, 'Arn');
      if (uses) {
        for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']) {
          expectEq(`${w} ${action} on the objects of bucket ${b}`, allowsMatching(st, action, bucketId, onObjects), true);
        }
        for (const action of ['s3:ListBucket', 's3:ListBucketMultipartUploads']) {
          expectEq(`${w} ${action} on bucket ${b}`, allowsMatching(st, action, bucketId, onBucket), true);
        }
      } else {
        expectEq(`${w} actions on bucket ${b}`, actionsOn(st, bucketId), []);
      }
    }

    // scheduler_targets: manage `<prefix>-export-*` schedules in the default group and pass the scheduler role to
    // Scheduler only; the role trusts Scheduler from this account and may only send to the listed queues
    const scheduleGrants = st.filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).some((a) => SCHEDULE_ACTIONS.some((x) => actionMatches(a, x)) || actionMatches(a, 'scheduler:ListSchedules')));
    const passRole = st.filter((s) => s.Effect === 'Allow' && asArray<string>(s.Action).some((a) => actionMatches(a, 'iam:PassRole')));
    if (targets.length === 0) {
      expectEq(`${w} scheduler permissions`, scheduleGrants.length, 0);
      expectEq(`${w} iam:PassRole`, passRole.length, 0);
    } else {
      const pattern = new RegExp(`^arn:(aws|\\$\\{AWS::Partition\\}):scheduler:[^:]+:(\\$\\{AWS::AccountId\\}|\\d{12}):schedule/default/${prefix}-export-\\*$`);
      expectEq(
        `${w} scheduler permissions`,
        scheduleGrants.map((s) => ({ actions: [...asArray<string>(s.Action)].sort(), resources: asArray(s.Resource).map((r) => pattern.test(arnText(r))) })),
        [{ actions: [...SCHEDULE_ACTIONS].sort(), resources: [true] }],
      );
      expectEq(
        `${w} iam:PassRole`,
        passRole.map((s) => ({ actions: asArray(s.Action), onRole: asArray(s.Resource).map((r) => schedulerRoleId !== undefined && isRef(r, schedulerRoleId, 'Arn')), condition: s.Condition })),
        [{ actions: ['iam:PassRole'], onRole: [true], condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } }],
      );
      if (schedulerRoleId === undefined) errors.push(`${w}: HUBBLE_SCHEDULER_ROLE_ARN is not a role of this stack`);
      else {
        schedulerRoleIds.add(schedulerRoleId);
        const role = tpl.Resources[schedulerRoleId];
        // the stack's account: `{Ref: AWS::AccountId}`, or the literal account when the stack is bound to one
        const trust = asArray<any>(role?.Properties?.AssumeRolePolicyDocument?.Statement).map((t) => {
          const account = t.Condition?.StringEquals?.['aws:SourceAccount'];
          const ok = isDeepStrictEqual(account, { Ref: 'AWS::AccountId' }) || (typeof account === 'string' && /^\d{12}$/.test(account));
          return { ...t, Condition: { ...t.Condition, StringEquals: { ...t.Condition?.StringEquals, 'aws:SourceAccount': ok ? '<stack account>' : account } } };
        });
        expectEq(`${w} scheduler role trust policy`, trust, [
          {
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': '<stack account>' } },
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
          },
        ]);
        const rs = statementsOfRole(tpl, schedulerRoleId);
        for (const [q, queueId] of Object.entries(queueIds)) {
          expectEq(`${w} scheduler role actions on queue ${q}`, actionsOn(rs, queueId), targets.includes(q) ? ['sqs:SendMessage'] : []);
        }
        const onTargets = (s: any) => asArray(s.Resource).every((r) => targets.some((q) => isRef(r, queueIds[q], 'Arn')));
        expectEq(`${w} scheduler role statements on anything but its queues`, rs.filter((s) => !onTargets(s)).length, 0);
        expectEq(`${w} scheduler role managed policies`, asArray(role?.Properties?.ManagedPolicyArns).length, 0);
      }
    }

    // trigger
    if (f.trigger.type === 'sqs') {
      const trig = f.trigger;
      const esm = findOne(tpl, 'AWS::Lambda::EventSourceMapping', (m) => isRef(m.FunctionName, fnId));
      if (!esm) errors.push(`${w}: no SQS event source mapping`);
      else {
        const m = esm[1].Properties;
        expectEq(`${w} event source is queue ${trig.queue}`, isRef(m.EventSourceArn, queueIds[trig.queue], 'Arn'), true);
        expectEq(`${w} BatchSize`, m.BatchSize, trig.batch_size);
        expectEq(
          `${w} FunctionResponseTypes`,
          asArray(m.FunctionResponseTypes),
          trig.report_batch_item_failures ? ['ReportBatchItemFailures'] : [],
        );
      }
    } else {
      expectEq(`${w} has no event source mapping`, ofType(tpl, 'AWS::Lambda::EventSourceMapping').some(([, m]) => isRef(m.Properties.FunctionName, fnId)), false);
    }

    const errorsAlarm = findOne(
      tpl,
      'AWS::CloudWatch::Alarm',
      (a) =>
        a.Namespace === 'AWS/Lambda' &&
        a.MetricName === 'Errors' &&
        asArray<any>(a.Dimensions).some((d) => d.Name === 'FunctionName' && isRef(d.Value, fnId)),
    );
    if (!errorsAlarm) errors.push(`${w}: no Lambda Errors alarm`);
  }

  // roles Scheduler may assume: one per manifest schedule, one per function with scheduler_targets, no other
  const trustsScheduler = ofType(tpl, 'AWS::IAM::Role').filter(([, r]) =>
    asArray<any>(r.Properties?.AssumeRolePolicyDocument?.Statement).some((st) => asArray(st.Principal?.Service).includes('scheduler.amazonaws.com')),
  );
  expectEq(
    'number of roles EventBridge Scheduler may assume',
    trustsScheduler.length,
    Object.keys(res.schedules).length + Object.values(res.functions).filter((f) => (f.scheduler_targets ?? []).length > 0).length,
  );
  const scheduleRoleIds = new Set(
    ofType(tpl, 'AWS::Scheduler::Schedule').flatMap(([, sc]) => trustsScheduler.filter(([id]) => isRef(sc.Properties.Target?.RoleArn, id, 'Arn')).map(([id]) => id)),
  );
  expectEq('scheduler roles of functions that stack schedules use', [...schedulerRoleIds].filter((id) => scheduleRoleIds.has(id)), []);

  // ---------------------------------------------------------------- routes
  const routesOf = (apiId: string | undefined) => ofType(tpl, 'AWS::ApiGatewayV2::Route').filter(([, r]) => apiId !== undefined && isRef(r.Properties.ApiId, apiId));
  const expectedOf = (type: string) =>
    Object.entries(res.functions).flatMap(([key, f]) => (f.trigger.type === type ? (f.trigger as { routes: string[] }).routes.map((route) => ({ key, route })) : []));
  const expectedRoutes = expectedOf('http');
  const expectedWsRoutes = expectedOf('websocket');
  expectEq('number of HTTP APIs', apis.filter(([, a]) => a.Properties.ProtocolType === 'HTTP').length, expectedRoutes.length > 0 ? 1 : 0);
  expectEq('number of WebSocket APIs', apis.filter(([, a]) => a.Properties.ProtocolType === 'WEBSOCKET').length, expectedWsRoutes.length > 0 ? 1 : 0);
  expectEq('number of routes', ofType(tpl, 'AWS::ApiGatewayV2::Route').length, expectedRoutes.length + expectedWsRoutes.length);
  const routes = routesOf(httpApiId);
  expectEq('HTTP API route keys', routes.map(([, r]) => r.Properties.RouteKey).sort(), expectedRoutes.map((r) => r.route).sort());
  const wsRoutes = routesOf(wsApiId);
  expectEq('WebSocket API route keys', wsRoutes.map(([, r]) => r.Properties.RouteKey).sort(), expectedWsRoutes.map((r) => r.route).sort());
  for (const { key, route } of expectedWsRoutes) {
    const r = wsRoutes.find(([, x]) => x.Properties.RouteKey === route);
    if (!r) continue; // reported above
    const integration = ofType(tpl, 'AWS::ApiGatewayV2::Integration').find(([id]) => mentions(r[1].Properties.Target, id));
    if (!integration) {
      errors.push(`WebSocket route "${route}": no integration`);
      continue;
    }
    const ip = integration[1].Properties;
    expectEq(`WebSocket route "${route}" integrates function ${key}`, mentions(ip.IntegrationUri, fnIds[key]), true);
    expectEq(`WebSocket route "${route}" integration type`, ip.IntegrationType, 'AWS_PROXY');
  }
  if (expectedWsRoutes.length > 0) {
    expectEq('WebSocket stage deploys itself', wsStage?.[1].Properties.AutoDeploy, true);
  }
  for (const { key, route } of expectedRoutes) {
    const r = routes.find(([, x]) => x.Properties.RouteKey === route);
    if (!r) continue; // reported above
    const integration = ofType(tpl, 'AWS::ApiGatewayV2::Integration').find(([id]) => mentions(r[1].Properties.Target, id));
    if (!integration) {
      errors.push(`route "${route}": no integration`);
      continue;
    }
    const ip = integration[1].Properties;
    expectEq(`route "${route}" integrates function ${key}`, mentions(ip.IntegrationUri, fnIds[key]), true);
    expectEq(`route "${route}" integration`, [ip.IntegrationType, ip.PayloadFormatVersion], ['AWS_PROXY', '2.0']);
  }

  return errors;
}
