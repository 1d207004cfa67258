/**
 * Stack behaviour beyond the resources.json shapes: cargo-lambda wiring, offline synth, alarms, outputs, context.
 */
import fs = require('node:fs');
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Token } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RustFunction } from 'cargo-lambda-cdk';
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';
import { createApp } from '../lib/app';
import { DEFAULT_RESOURCES_FILE, QueueSpec, REPO_ROOT, Resources, effectiveDlqAlarm, loadResources, validateResources } from '../lib/resources';
import { CfnResource, CfnTemplate, actionsOn, allowsMatching, asArray, cdkJsonContext, clone, isRef, ofType, statementsOfRole, synth } from './helpers';
import { checkParity } from './parity';

const resources = loadResources();

afterEach(() => jest.restoreAllMocks());

describe('cargo-lambda functions', () => {
  test('every function is a RustFunction built from the workspace manifest with its own binary', () => {
    const bundle = jest.spyOn(Bundling, 'bundle');
    const { stack } = synth();
    const calls = bundle.mock.calls.map(([o]) => ({ manifestPath: o.manifestPath, binaryName: o.binaryName, arch: o.architecture?.name }));
    expect(calls.sort((a, b) => String(a.binaryName).localeCompare(String(b.binaryName)))).toEqual(
      Object.keys(resources.functions)
        .sort()
        .map((binaryName) => ({ manifestPath: path.join(REPO_ROOT, 'Cargo.toml'), binaryName, arch: 'arm64' })),
    );
    for (const key of Object.keys(resources.functions)) {
      expect(stack.functions[key]).toBeInstanceOf(RustFunction);
    }
  });

  test('the manifest is the Cargo workspace root, two levels above infra/cdk', () => {
    expect(path.relative(path.resolve(__dirname, '..'), path.join(REPO_ROOT, 'Cargo.toml'))).toBe(path.join('..', '..', 'Cargo.toml'));
    expect(fs.readFileSync(path.join(REPO_ROOT, 'Cargo.toml'), 'utf8')).toMatch(/^\[workspace\]/m);
  });

  test('with bundling skipped, synth never walks the workspace (target/, node_modules, .venv, local/.state)', () => {
    const readdir = jest.spyOn(fs, 'readdirSync');
    synth();
    const walked = readdir.mock.calls.map(([p]) => path.resolve(String(p)));
    expect(walked).not.toContain(REPO_ROOT);
    expect(walked.filter((p) => p.startsWith(path.join(REPO_ROOT, 'target')))).toEqual([]);

    // control: the spy does see an asset directory being fingerprinted
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubble-asset-'));
    fs.writeFileSync(path.join(dir, 'bootstrap'), 'x');
    readdir.mockClear();
    const stack = new Stack(new App(), 'Control');
    new lambda.Function(stack, 'F', { runtime: lambda.Runtime.PROVIDED_AL2023, handler: 'bootstrap', code: lambda.Code.fromAsset(dir) });
    expect(readdir.mock.calls.map(([p]) => path.resolve(String(p)))).toContain(fs.realpathSync(dir));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('bundling is only skipped when asked for', () => {
    const app = createApp({ context: { ...cdkJsonContext(), skipBundling: true } }).app;
    expect(app.node.tryGetContext('aws:cdk:bundling-stacks')).toEqual([]);
    expect(createApp({ context: { ...cdkJsonContext(), skipBundling: 'true' } }).stack.bundlingRequired).toBe(false);
    // (without the flag, constructing the stack already runs `cargo lambda build` or Docker: not done here)
  });
});

describe('rules', () => {
  test('the stack exposes one events.Rule per manifest rule (shapes: test/parity.ts)', () => {
    const { stack } = synth();
    expect(Object.keys(stack.messaging.rules).sort()).toEqual(Object.keys(resources.rules).sort());
    for (const rule of Object.values(stack.messaging.rules)) expect(rule).toBeInstanceOf(events.Rule);
  });
});

describe('buckets', () => {
  const [bucketKey, bucket] = Object.entries(resources.buckets)[0];
  const notification = (bucket.notifications ?? [])[0];

  /** the manifest with one more function that uses the bucket: an import planner fed by the notifications */
  const withUser = (): Resources => {
    const r = clone(resources) as any;
    const queue = notification?.target_queue ?? Object.keys(r.queues)[0];
    r.functions['bucket-user'] = {
      description: 'plans imports',
      memory_mb: 512,
      timeout_seconds: 300,
      tables: [],
      event_bus: false,
      kms_keys: [],
      queues: [],
      buckets: [bucketKey],
      trigger: { type: 'sqs', queue, batch_size: 1, report_batch_item_failures: true },
    };
    return validateResources(r);
  };

  test('one private, encrypted, unversioned, retained S3 bucket per manifest entry, its name generated', () => {
    const { stack, template, json } = synth();
    template.resourceCountIs('AWS::S3::Bucket', Object.keys(resources.buckets).length);
    expect(Object.keys(stack.storage.buckets).sort()).toEqual(Object.keys(resources.buckets).sort());
    for (const [, r] of ofType(json, 'AWS::S3::Bucket')) {
      expect(r.Properties.BucketName).toBeUndefined();
      expect(r.Properties.VersioningConfiguration).toBeUndefined();
      expect(r.DeletionPolicy).toBe('Retain');
      expect(r.Properties).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      });
    }
  });

  test('lifecycle rules and CORS as the manifest says', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          ...(bucket.expiration ?? []).map((e) => ({ Prefix: e.prefix, ExpirationInDays: e.days, Status: 'Enabled' })),
          { AbortIncompleteMultipartUpload: { DaysAfterInitiation: bucket.abort_incomplete_multipart_days }, Status: 'Enabled' },
        ].map((rule) => Match.objectLike(rule)),
      },
      CorsConfiguration: {
        CorsRules: [{ AllowedMethods: ['PUT', 'GET'], AllowedOrigins: ['*'], AllowedHeaders: ['*'], ExposedHeaders: ['ETag'], MaxAge: 3600 }],
      },
    });
  });

  test('uploads notify their queue (prefix filter), and its policy lets s3.amazonaws.com send for this bucket only', () => {
    expect(notification).toBeDefined();
    const { json } = synth();
    const [bucketId] = ofType(json, 'AWS::S3::Bucket')[0];
    const queueIdOf = (q: string) => ofType(json, 'AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === `hubble-${resources.queues[q].name}`)![0];
    const queueId = queueIdOf(notification.target_queue);
    const [, config] = ofType(json, 'Custom::S3BucketNotifications').find(([, n]) => isRef(n.Properties.BucketName, bucketId))!;
    expect(config.Properties.NotificationConfiguration.QueueConfigurations).toEqual(
      (bucket.notifications ?? []).map((n) => ({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: n.prefix }] } },
        QueueArn: { 'Fn::GetAtt': [queueIdOf(n.target_queue), 'Arn'] },
      })),
    );
    const statements = ofType(json, 'AWS::SQS::QueuePolicy')
      .filter(([, p]) => asArray(p.Properties.Queues).some((q) => isRef(q, queueId)))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: expect.arrayContaining(['sqs:SendMessage']),
        Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
      }),
    );
  });

  test('a bucket without expirations or notifications: only the multipart rule, no notification resources', () => {
    const changed = clone(resources);
    delete (changed.buckets[bucketKey] as any).expiration;
    delete (changed.buckets[bucketKey] as any).notifications;
    const { template, json } = synth({}, changed);
    expect(checkParity(json, changed, 'hubble')).toEqual([]);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('AWS::Lambda::Function', Object.keys(changed.functions).length);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: bucket.abort_incomplete_multipart_days } })] },
    });
  });

  test('a function listing the bucket gets its name and read/write (multipart and presigning included); the others get nothing', () => {
    const changed = withUser();
    const { json } = synth({}, changed);
    expect(checkParity(json, changed, 'hubble')).toEqual([]);
    const [bucketId] = ofType(json, 'AWS::S3::Bucket')[0];
    const fn = (key: string) => ofType(json, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === `hubble-${key}`)![1];
    const user = fn('bucket-user');
    expect(user.Properties.Environment.Variables[bucket.env]).toEqual({ Ref: bucketId });
    const st = statementsOfRole(json, user.Properties.Role['Fn::GetAtt'][0]);
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject', 's3:ListBucket']) {
      expect([action, allowsMatching(st, action, bucketId)]).toEqual([action, true]);
    }
    for (const key of Object.keys(resources.functions).filter((k) => !(resources.functions[k].buckets ?? []).includes(bucketKey))) {
      const other = fn(key);
      expect(Object.keys(other.Properties.Environment.Variables)).not.toContain(bucket.env);
      expect(actionsOn(statementsOfRole(json, other.Properties.Role['Fn::GetAtt'][0]), bucketId)).toEqual([]);
    }
  });
});

describe('schedules managed by functions (scheduler_targets)', () => {
  const [fnKey, fnSpec] = Object.entries(resources.functions).find(([, f]) => (f.scheduler_targets ?? []).length > 0)!;
  const target = fnSpec.scheduler_targets![0];

  const fnOf = (json: CfnTemplate, key: string, prefix = 'hubble') =>
    ofType(json, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === `${prefix}-${key}`)![1];
  const queueId = (json: CfnTemplate, name: string) => ofType(json, 'AWS::SQS::Queue').find(([, q]) => q.Properties.QueueName === name)![0];
  const roleOf = (fn: CfnResource) => fn.Properties.Environment.Variables.HUBBLE_SCHEDULER_ROLE_ARN['Fn::GetAtt'][0] as string;
  const schedulerStatements = (st: any[]) =>
    st.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'));

  test('the api schedules exports', () => {
    expect(fnKey).toBe('api');
    expect(target).toBe('exports');
    expect(resources.queues.exports.arn_env).toBe('HUBBLE_EXPORTS_QUEUE_ARN');
  });

  test('the function gets the role ARN, the queue ARN, schedule management on <prefix>-export-* and PassRole to Scheduler only', () => {
    const { json, stack } = synth();
    const fn = fnOf(json, fnKey);
    const vars = fn.Properties.Environment.Variables;
    const exportsId = queueId(json, `hubble-${resources.queues[target].name}`);
    expect(vars.HUBBLE_EXPORTS_QUEUE_ARN).toEqual({ 'Fn::GetAtt': [exportsId, 'Arn'] });
    const roleId = roleOf(fn);
    expect(json.Resources[roleId].Type).toBe('AWS::IAM::Role');
    expect(vars.HUBBLE_SCHEDULER_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });

    const st = schedulerStatements(statementsOfRole(json, fn.Properties.Role['Fn::GetAtt'][0]));
    expect(st).toEqual([
      {
        Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
        Effect: 'Allow',
        Resource: stack.resolve(`arn:aws:scheduler:${stack.region}:${stack.account}:schedule/default/hubble-export-*`),
      },
      {
        Action: 'iam:PassRole',
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [roleId, 'Arn'] },
      },
    ]);
  });

  test('the schedule pattern follows the prefix', () => {
    const { json } = synth({ prefix: 'acme-stg' });
    const st = schedulerStatements(statementsOfRole(json, fnOf(json, fnKey, 'acme-stg').Properties.Role['Fn::GetAtt'][0]));
    expect(JSON.stringify(st)).toContain(':schedule/default/acme-stg-export-*');
    expect(JSON.stringify(st)).not.toContain('hubble-export');
  });

  test('the role trusts scheduler.amazonaws.com from this account and may only send to the target queue', () => {
    const { json, stack } = synth();
    const roleId = roleOf(fnOf(json, fnKey));
    expect(json.Resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': stack.resolve(stack.account) } },
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
      },
    ]);
    expect(json.Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const exportsId = queueId(json, `hubble-${resources.queues[target].name}`);
    expect(statementsOfRole(json, roleId)).toEqual([{ Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [exportsId, 'Arn'] } }]);
  });

  test('CDK creates no schedule for them: only the manifest schedules', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Scheduler::Schedule', Object.keys(resources.schedules).length);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 0);
  });

  test('functions without scheduler_targets get none of it', () => {
    const { json } = synth();
    const others = Object.keys(resources.functions).filter((k) => (resources.functions[k].scheduler_targets ?? []).length === 0);
    expect(others.length).toBeGreaterThan(0);
    for (const key of others) {
      const fn = fnOf(json, key);
      const names = Object.keys(fn.Properties.Environment.Variables);
      expect([key, names.filter((n) => n === 'HUBBLE_SCHEDULER_ROLE_ARN' || n.endsWith('_QUEUE_ARN'))]).toEqual([key, []]);
      expect([key, schedulerStatements(statementsOfRole(json, fn.Properties.Role['Fn::GetAtt'][0]))]).toEqual([key, []]);
    }
    // one scheduler role per manifest schedule and per function with scheduler_targets
    const schedulerRoles = ofType(json, 'AWS::IAM::Role').filter(([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'));
    expect(schedulerRoles).toHaveLength(Object.keys(resources.schedules).length + 1);
  });

  test('a manifest without scheduler_targets deploys no scheduler role for functions', () => {
    const changed = clone(resources) as any;
    for (const f of Object.values(changed.functions) as any[]) delete f.scheduler_targets;
    const { json } = synth({}, validateResources(changed));
    expect(checkParity(json, changed, 'hubble')).toEqual([]);
    expect(Object.keys(fnOf(json, fnKey).Properties.Environment.Variables)).not.toContain('HUBBLE_SCHEDULER_ROLE_ARN');
  });
});

describe('permissions', () => {
  test('functions that publish events may also describe the bus (health checks)', () => {
    const { template } = synth();
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('events:DescribeEventBus');
  });
});

describe('alarms', () => {
  test('no SNS topic without alarmEmail', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::SNS::Topic', 0);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms)).toHaveLength(Object.keys(resources.queues).length + Object.keys(resources.functions).length);
    for (const a of Object.values(alarms)) expect(a.Properties.AlarmActions).toBeUndefined();
  });

  test('alarmEmail adds a topic with an e-mail subscription that every alarm notifies', () => {
    const { template, json } = synth({ alarmEmail: 'ops@example.com' });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const [topicId] = ofType(json, 'AWS::SNS::Topic')[0];
    for (const [, a] of ofType(json, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    }
  });

  test('DLQ alarms: named and described after their dlq_alarm, the manifest description first', () => {
    const changed = clone(resources);
    const [a, b, c] = Object.keys(changed.queues);
    delete (changed.queues[a] as any).dlq_alarm;
    (changed.queues[b] as any).dlq_alarm = { metric: 'sent', threshold: 7, period_seconds: 60 };
    (changed.queues[c] as any).dlq_alarm = { metric: 'visible', threshold: 20, period_seconds: 600, description: 'from the manifest' };
    const { json } = synth({}, changed);
    const alarm = (name: string) => ofType(json, 'AWS::CloudWatch::Alarm').find(([, r]) => r.Properties.AlarmName === name)?.[1].Properties;
    expect(alarm(`hubble-${a}-dlq-not-empty`)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmDescription: `Messages are waiting in the hubble ${a} dead-letter queue.`,
    });
    expect(alarm(`hubble-${b}-dlq-arrivals`)).toMatchObject({
      MetricName: 'NumberOfMessagesSent',
      AlarmDescription: `At least 7 messages were sent to the hubble ${b} dead-letter queue within a minute.`,
    });
    expect(alarm(`hubble-${c}-dlq-backlog`)).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', AlarmDescription: 'from the manifest' });
  });

  test('Lambda errors alarms', () => {
    const { template } = synth();
    template.resourcePropertiesCountIs(
      'AWS::CloudWatch::Alarm',
      { Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1, Period: 300, Statistic: 'Sum' },
      Object.keys(resources.functions).length,
    );
  });
});

describe('outputs and environment', () => {
  test('API URL, table names and bus name are outputs', () => {
    const { template, json } = synth();
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
    template.hasOutput('EventBusName', { Value: Match.anyValue() });
    const descriptions = Object.values(json.Outputs ?? {}).map((o) => o.Description);
    for (const t of Object.values(resources.tables)) expect(descriptions).toContain(t.env);
  });

  test('each bucket\'s generated name is an output described by its env', () => {
    const { json } = synth();
    for (const [key, b] of Object.entries(resources.buckets)) {
      const outputs = Object.values(json.Outputs ?? {}).filter((o) => o.Description === b.env);
      expect([key, outputs.length]).toEqual([key, 1]);
      expect(ofType(json, 'AWS::S3::Bucket').some(([id]) => isRef(outputs[0].Value, id))).toBe(true);
    }
  });

  test('synth works without credentials: region from context, else us-east-1; account unresolved', () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    delete process.env.CDK_DEFAULT_ACCOUNT;
    delete process.env.CDK_DEFAULT_REGION;
    try {
      const def = synth().stack;
      expect(def.region).toBe('us-east-1');
      expect(Token.isUnresolved(def.account)).toBe(true);
      expect(synth({ region: 'eu-west-1' }).stack.region).toBe('eu-west-1');
    } finally {
      if (saved.account !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved.account;
      if (saved.region !== undefined) process.env.CDK_DEFAULT_REGION = saved.region;
    }
  });

  test('stack name follows the prefix', () => {
    expect(synth({ prefix: 'acme' }).stack.stackName).toBe('acme-integration-hub');
  });

  test('invalid context is rejected', () => {
    expect(() => synth({ prefix: 'Bad_Prefix' })).toThrow(/prefix/);
    expect(() => synth({ alarmEmail: 'nope' })).toThrow(/alarmEmail/);
    expect(() => synth({ logRetentionDays: 8 })).toThrow(/logRetentionDays/);
  });
});

/** invalid `dlq_alarm`s of the first queue, and the message the loader gives */
const dlqAlarmCases: Array<[string, (r: any) => void, RegExp]> = (
  [
    ['a dlq_alarm that is not an object', 'sent', /queues\.[a-z0-9-]+\.dlq_alarm: expected an object/],
    ['a dlq_alarm without a metric', { threshold: 1 }, /dlq_alarm: missing field "metric"/],
    ['a dlq_alarm without a threshold', { metric: 'sent' }, /dlq_alarm: missing field "threshold"/],
    ['an unknown dlq_alarm metric', { metric: 'received', threshold: 1 }, /dlq_alarm\.metric: expected "visible" or "sent", got "received"/],
    ['a dlq_alarm metric spelled as CloudWatch does', { metric: 'NumberOfMessagesSent', threshold: 1 }, /dlq_alarm\.metric: expected "visible" or "sent"/],
    ['a dlq_alarm threshold of 0', { metric: 'sent', threshold: 0 }, /dlq_alarm\.threshold: expected an integer in \[1, 4294967295\], got 0/],
    ['a fractional dlq_alarm threshold', { metric: 'sent', threshold: 1.5 }, /dlq_alarm\.threshold: expected an integer/],
    ['a dlq_alarm threshold given as a string', { metric: 'sent', threshold: '50' }, /dlq_alarm\.threshold: expected an integer/],
    ['a dlq_alarm period below a minute', { metric: 'sent', threshold: 1, period_seconds: 30 }, /dlq_alarm\.period_seconds: expected a multiple of 60 in \[60, 86400\].*got 30/],
    ['a dlq_alarm period that is not a multiple of 60', { metric: 'sent', threshold: 1, period_seconds: 90 }, /period_seconds: expected a multiple of 60.*got 90/],
    ['a dlq_alarm period above a day', { metric: 'sent', threshold: 1, period_seconds: 86460 }, /period_seconds: expected a multiple of 60.*got 86460/],
    ['an empty dlq_alarm description', { metric: 'sent', threshold: 1, description: '' }, /dlq_alarm\.description: expected a non-empty string/],
    ['a dlq_alarm description too long for CloudWatch', { metric: 'sent', threshold: 1, description: 'x'.repeat(1025) }, /dlq_alarm\.description: at most 1024 characters/],
    ['an unknown dlq_alarm field', { metric: 'sent', threshold: 1, statistic: 'Sum' }, /dlq_alarm: unknown field "statistic"/],
    ['a dlq_alarm evaluation_periods (not supported)', { metric: 'sent', threshold: 1, evaluation_periods: 3 }, /dlq_alarm: unknown field "evaluation_periods"/],
  ] as Array<[string, unknown, RegExp]>
).map(([what, alarm, message]) => [what, (r: any) => ((Object.values(r.queues)[0] as any).dlq_alarm = alarm), message]);

/** invalid buckets (mutations of the first bucket, or of the references to buckets), and the message the loader gives */
const firstBucket = (r: any) => Object.values(r.buckets)[0] as any;
const bucketCases: Array<[string, (r: any) => void, RegExp]> = [
  ['a missing buckets section', (r) => delete r.buckets, /\$: missing field "buckets"/],
  ['an unknown bucket field', (r) => (firstBucket(r).versioned = true), /buckets\.[a-z0-9-]+: unknown field "versioned"/],
  ['a bucket with a fixed physical name field', (r) => (firstBucket(r).bucket_name = 'x'), /buckets\.[a-z0-9-]+: unknown field "bucket_name"/],
  ['a bucket without env', (r) => delete firstBucket(r).env, /buckets\.[a-z0-9-]+: missing field "env"/],
  ['a malformed bucket env', (r) => (firstBucket(r).env = 'files_bucket'), /buckets\.[a-z0-9-]+\.env: "files_bucket" does not match/],
  ['a malformed bucket name', (r) => (firstBucket(r).name = 'Files'), /buckets\.[a-z0-9-]+\.name: "Files" does not match/],
  ['a bucket without abort_incomplete_multipart_days', (r) => delete firstBucket(r).abort_incomplete_multipart_days, /missing field "abort_incomplete_multipart_days"/],
  ['abort_incomplete_multipart_days 0', (r) => (firstBucket(r).abort_incomplete_multipart_days = 0), /abort_incomplete_multipart_days: expected an integer in \[1, /],
  ['an expiration of 0 days', (r) => (firstBucket(r).expiration = [{ prefix: 'uploads/', days: 0 }]), /expiration\[0\]\.days: expected an integer in \[1, \d+\], got 0/],
  ['an expiration of 1.5 days', (r) => (firstBucket(r).expiration = [{ prefix: 'uploads/', days: 1.5 }]), /expiration\[0\]\.days: expected an integer/],
  ['an expiration given as a string', (r) => (firstBucket(r).expiration = [{ prefix: 'uploads/', days: '7' }]), /expiration\[0\]\.days: expected an integer/],
  ['an expiration without a prefix', (r) => (firstBucket(r).expiration = [{ days: 7 }]), /expiration\[0\]: missing field "prefix"/],
  ['an unknown expiration field', (r) => (firstBucket(r).expiration = [{ prefix: 'a/', days: 7, storage_class: 'GLACIER' }]), /expiration\[0\]: unknown field "storage_class"/],
  ['expiration that is not an array', (r) => (firstBucket(r).expiration = { prefix: 'a/', days: 7 }), /expiration: expected an array/],
  ['a notification to an unknown queue', (r) => (firstBucket(r).notifications = [{ prefix: 'uploads/', target_queue: 'nope' }]), /notifications\[0\]\.target_queue: unknown queue "nope"/],
  ['a notification without a target queue', (r) => (firstBucket(r).notifications = [{ prefix: 'uploads/' }]), /notifications\[0\]: missing field "target_queue"/],
  [
    'an unknown notification field',
    (r) => (firstBucket(r).notifications = [{ prefix: 'uploads/', target_queue: Object.keys(r.queues)[0], events: ['s3:ObjectRemoved:*'] }]),
    /notifications\[0\]: unknown field "events"/,
  ],
  [
    'overlapping notification prefixes (S3 refuses them)',
    (r) => {
      const q = Object.keys(r.queues)[0];
      firstBucket(r).notifications = [{ prefix: 'uploads/', target_queue: q }, { prefix: 'uploads/csv/', target_queue: q }];
    },
    /notifications\[1\]\.prefix: "uploads\/csv\/" overlaps "uploads\/" of notifications\[0\]/,
  ],
  [
    'a bucket env colliding with a table variable',
    (r) => (firstBucket(r).env = (Object.values(r.tables)[0] as any).env),
    /buckets\.[a-z0-9-]+: environment variable HUBBLE_[A-Z_]+ is also used by tables\./,
  ],
  ['a function using an unknown bucket', (r) => ((Object.values(r.functions)[0] as any).buckets = ['nope']), /functions\.[a-z0-9-]+\.buckets: unknown bucket "nope"/],
  ['function buckets that is not an array', (r) => ((Object.values(r.functions)[0] as any).buckets = 'files'), /functions\.[a-z0-9-]+\.buckets: expected an array of strings/],
];

/** invalid `arn_env`s and `scheduler_targets` (mutations of the api, which schedules exports), and the loader's message */
const api = (r: any) => r.functions.api;
const plainQueue = (r: any) => Object.keys(r.queues).find((k) => r.queues[k].arn_env === undefined)!;
const schedulerTargetCases: Array<[string, (r: any) => void, RegExp]> = [
  ['scheduler_targets naming an unknown queue', (r) => api(r).scheduler_targets.push('nope'), /functions\.api\.scheduler_targets: unknown queue "nope"/],
  [
    'scheduler_targets naming a queue without arn_env',
    (r) => {
      const q = plainQueue(r);
      api(r).queues.push(q);
      api(r).scheduler_targets.push(q);
    },
    /functions\.api\.scheduler_targets: queue "[a-z0-9-]+" declares no "arn_env"/,
  ],
  [
    'scheduler_targets naming a queue the function does not send to',
    (r) => (api(r).queues = api(r).queues.filter((q: string) => q !== 'exports')),
    /functions\.api\.scheduler_targets: queue "exports" is not in the function's "queues"/,
  ],
  ['scheduler_targets that is not an array', (r) => (api(r).scheduler_targets = 'exports'), /scheduler_targets: expected an array of strings/],
  ['a malformed arn_env', (r) => (r.queues.exports.arn_env = 'exports_arn'), /queues\.exports\.arn_env: "exports_arn" does not match/],
  ['an empty arn_env', (r) => (r.queues.exports.arn_env = ''), /queues\.exports\.arn_env: expected a non-empty string/],
  [
    'an arn_env equal to its own queue variable',
    (r) => (r.queues.exports.arn_env = r.queues.exports.env),
    /queues\.exports\.arn_env: environment variable HUBBLE_EXPORTS_QUEUE_URL is also used by queues\.exports/,
  ],
  [
    'an arn_env colliding with a table variable',
    (r) => (r.queues.exports.arn_env = (Object.values(r.tables)[0] as any).env),
    /queues\.exports\.arn_env: environment variable HUBBLE_[A-Z_]+ is also used by tables\./,
  ],
  [
    'an arn_env taking the scheduler role variable',
    (r) => (r.queues.exports.arn_env = 'HUBBLE_SCHEDULER_ROLE_ARN'),
    /queues\.exports\.arn_env: environment variable HUBBLE_SCHEDULER_ROLE_ARN is also used by the scheduler role/,
  ],
  ['an unknown queue field', (r) => (r.queues.exports.arn = 'x'), /queues\.exports: unknown field "arn"/],
  [
    'a manifest schedule in the range functions manage',
    (r) => (r.schedules['export-nightly'] = Object.values(r.schedules)[0]),
    /schedules\.export-nightly: schedule keys starting with "export-" are reserved/,
  ],
];

describe('resources.json loader', () => {
  const raw = () => JSON.parse(fs.readFileSync(DEFAULT_RESOURCES_FILE, 'utf8'));

  test('the shared file is valid', () => {
    expect(() => validateResources(raw())).not.toThrow();
  });

  test('dlq_env and dead_letter_queues are optional', () => {
    const r = raw();
    for (const q of Object.values(r.queues) as any[]) delete q.dlq_env;
    for (const f of Object.values(r.functions) as any[]) delete f.dead_letter_queues;
    expect(() => validateResources(r)).not.toThrow();
  });

  test('a bucket\'s description, expiration and notifications and a function\'s buckets are optional', () => {
    const r = raw();
    for (const b of Object.values(r.buckets) as any[]) {
      delete b.description;
      delete b.expiration;
      delete b.notifications;
    }
    for (const f of Object.values(r.functions) as any[]) delete f.buckets;
    expect(() => validateResources(r)).not.toThrow();
    for (const f of Object.values(r.functions) as any[]) f.buckets = Object.keys(r.buckets);
    expect(() => validateResources(r)).not.toThrow();
  });

  test('notification prefixes may share a beginning as long as neither contains the other', () => {
    const r = raw();
    const q = Object.keys(r.queues)[0];
    firstBucket(r).notifications = [
      { prefix: 'uploads/a', target_queue: q },
      { prefix: 'uploads/b', target_queue: q },
    ];
    expect(() => validateResources(r)).not.toThrow();
    firstBucket(r).notifications.push({ prefix: 'uploads/a', target_queue: q });
    expect(() => validateResources(r)).toThrow(/notifications\[2\]\.prefix: "uploads\/a" overlaps "uploads\/a" of notifications\[0\]/);
  });

  test('arn_env and scheduler_targets are optional; a queue may declare arn_env that no function uses', () => {
    const r = raw();
    for (const f of Object.values(r.functions) as any[]) delete f.scheduler_targets;
    expect(() => validateResources(r)).not.toThrow();
    for (const q of Object.values(r.queues) as any[]) delete q.arn_env;
    expect(() => validateResources(r)).not.toThrow();
  });

  test('dlq_alarm is optional; period_seconds and description within it too', () => {
    const r = raw();
    const [a, b] = Object.values(r.queues) as any[];
    delete a.dlq_alarm;
    b.dlq_alarm = { metric: 'sent', threshold: 1 };
    expect(() => validateResources(r)).not.toThrow();
    b.dlq_alarm = { metric: 'visible', threshold: 10, period_seconds: 86400, description: 'x' };
    expect(() => validateResources(r)).not.toThrow();
    b.dlq_alarm = { metric: 'sent', threshold: 1, period_seconds: 60 };
    expect(() => validateResources(r)).not.toThrow();
  });

  test('effectiveDlqAlarm applies the defaults', () => {
    const q = Object.values(raw().queues)[0] as QueueSpec;
    expect(effectiveDlqAlarm({ ...q, dlq_alarm: undefined })).toEqual({ metric: 'visible', threshold: 1, period_seconds: 300, description: undefined });
    expect(effectiveDlqAlarm({ ...q, dlq_alarm: { metric: 'sent', threshold: 50 } })).toEqual({
      metric: 'sent',
      threshold: 50,
      period_seconds: 300,
      description: undefined,
    });
    expect(effectiveDlqAlarm({ ...q, dlq_alarm: { metric: 'sent', threshold: 5, period_seconds: 600, description: 'd' } })).toEqual({
      metric: 'sent',
      threshold: 5,
      period_seconds: 600,
      description: 'd',
    });
  });

  test('a rule may match any event field, nested detail and content filters', () => {
    const r = raw();
    (Object.values(r.rules)[0] as any).pattern = {
      source: ['hubblewave'],
      'detail-type': ['record.created', 'record.updated'],
      detail: { tenant_id: [{ prefix: 't-' }], data: { status: [{ 'anything-but': 'draft' }] } },
    };
    expect(() => validateResources(r)).not.toThrow();
  });

  test.each([
    ['an unknown section', (r: any) => (r.topics = {}), /unknown field "topics"/],
    ['an unknown table field', (r: any) => (Object.values(r.tables)[0] as any).stream = 'NEW_IMAGE', /unknown field "stream"/],
    ['a function using an unknown table', (r: any) => (Object.values(r.functions)[0] as any).tables.push('nope'), /unknown table "nope"/],
    ['a schedule targeting an unknown queue', (r: any) => (Object.values(r.schedules)[0] as any).target_queue = 'nope', /unknown queue "nope"/],
    ['an unsupported trigger', (r: any) => ((Object.values(r.functions)[0] as any).trigger = { type: 'kinesis' }), /unsupported trigger type/],
    ['a websocket trigger without routes', (r: any) => ((Object.values(r.functions)[0] as any).trigger = { type: 'websocket', routes: [] }), /a websocket function needs at least one route/],
    ['a malformed WebSocket route key', (r: any) => ((Object.values(r.functions)[0] as any).trigger = { type: 'websocket', routes: ['GET /x'] }), /is not a WebSocket route key/],
    [
      'posting to WebSocket connections without a WebSocket API',
      (r: any) => {
        for (const f of Object.values(r.functions) as any[]) {
          if (f.trigger.type === 'websocket') f.trigger = { type: 'http', routes: ['GET /ws-was-here'] };
        }
      },
      /no function is routed on the WebSocket API/,
    ],
    ['a WebSocket function slower than API Gateway waits', (r: any) => {
      const f = Object.values(r.functions).find((x: any) => x.trigger.type === 'websocket') as any;
      f.timeout_seconds = 60;
    }, /WebSocket integrations time out after 29 s/],
    ['a malformed route', (r: any) => (Object.values(r.functions).find((f: any) => f.trigger.type === 'http') as any).trigger.routes.push('/x'), /invalid route/],
    [
      'a queue visibility shorter than its consumer timeout',
      (r: any) => {
        const f = Object.values(r.functions).find((x: any) => x.trigger.type === 'sqs') as any;
        r.queues[f.trigger.queue].visibility_timeout_seconds = f.timeout_seconds - 1;
      },
      /visibility timeout/,
    ],
    ['a missing rules section', (r: any) => delete r.rules, /missing field "rules"/],
    ['a rule targeting an unknown queue', (r: any) => (Object.values(r.rules)[0] as any).target_queue = 'nope', /rules\.[a-z0-9-]+\.target_queue: unknown queue "nope"/],
    ['a rule without a pattern', (r: any) => delete (Object.values(r.rules)[0] as any).pattern, /missing field "pattern"/],
    ['a rule pattern that is not an object', (r: any) => ((Object.values(r.rules)[0] as any).pattern = ['hubblewave']), /pattern: expected an object/],
    ['an empty rule pattern', (r: any) => ((Object.values(r.rules)[0] as any).pattern = {}), /needs at least one field/],
    ['a rule pattern field that is not an array', (r: any) => ((Object.values(r.rules)[0] as any).pattern = { source: 'hubblewave' }), /pattern\.source: event pattern fields are arrays/],
    ['a rule pattern spelling detailType', (r: any) => ((Object.values(r.rules)[0] as any).pattern.detailType = ['x']), /spelled "detail-type"/],
    ['an unknown rule field', (r: any) => ((Object.values(r.rules)[0] as any).input = {}), /unknown field "input"/],
    ['a rule key that is not a name', (r: any) => (r.rules.Bad_Rule = Object.values(r.rules)[0]), /rules\.Bad_Rule: rule keys are names/],
    ['a malformed dlq_env', (r: any) => ((Object.values(r.queues)[0] as any).dlq_env = 'dlq_url'), /dlq_env: "dlq_url" does not match/],
    [
      'a dlq_env colliding with another variable',
      (r: any) => ((Object.values(r.queues)[0] as any).dlq_env = (Object.values(r.tables)[0] as any).env),
      /environment variable HUBBLE_[A-Z_]+ is also used by tables\./,
    ],
    [
      'a dlq_env equal to its own queue variable',
      (r: any) => {
        const q = Object.values(r.queues)[0] as any;
        q.dlq_env = q.env;
      },
      /queues\.[a-z0-9-]+\.dlq_env: environment variable [A-Z_]+ is also used by queues\./,
    ],
    ['dead_letter_queues naming an unknown queue', (r: any) => ((Object.values(r.functions)[0] as any).dead_letter_queues = ['nope']), /dead_letter_queues: unknown queue "nope"/],
    [
      'dead_letter_queues naming a queue without dlq_env',
      (r: any) => {
        const plain = Object.keys(r.queues).find((k) => r.queues[k].dlq_env === undefined);
        (Object.values(r.functions)[0] as any).dead_letter_queues = [plain];
      },
      /dead_letter_queues: queue "[a-z0-9-]+" declares no "dlq_env"/,
    ],
    ...dlqAlarmCases,
    ...bucketCases,
    ...schedulerTargetCases,
    ['dead_letter_queues that is not an array', (r: any) => ((Object.values(r.functions)[0] as any).dead_letter_queues = 'x'), /dead_letter_queues: expected an array of strings/],
  ])('rejects %s', (_what, mutate, message) => {
    const r = raw();
    mutate(r);
    expect(() => validateResources(r)).toThrow(message);
  });
});
