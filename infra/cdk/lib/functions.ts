/**
 * One cargo-lambda-cdk RustFunction per entry of resources.json `functions`, with its environment, least-privilege
 * grants and (for SQS-triggered functions) its event source mapping; for functions with `scheduler_targets`, the role
 * EventBridge Scheduler assumes for the schedules they manage at run time.
 */
import * as path from 'node:path';
import { ArnFormat, AssetHashType, Duration, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { DataResources, constructId } from './data';
import { MessagingResources } from './messaging';
import { CDK_ROOT, EVENT_SOURCE_ENV, FunctionSpec, PUBLIC_BASE_URL_ENV, Resources, SCHEDULER_ROLE_ENV, managedScheduleNamePattern, physicalName } from './resources';
import { StorageResources } from './storage';
import { WebsocketResources } from './websocket-api';

/** The Cargo workspace manifest, `../../Cargo.toml` seen from infra/cdk. */
export const MANIFEST_PATH = path.join(CDK_ROOT, '..', '..', 'Cargo.toml');

export interface FunctionsProps {
  readonly resources: Resources;
  readonly prefix: string;
  readonly logRetention: logs.RetentionDays;
  readonly data: DataResources;
  readonly messaging: MessagingResources;
  readonly storage: StorageResources;
  /** the HTTP API, when there is one: its URL is the public base URL of functions on the WebSocket API */
  readonly httpApi?: apigwv2.HttpApi;
  /** the WebSocket API, when a function is routed on it */
  readonly websocket?: WebsocketResources;
}

/**
 * The environment a function gets. Values are CDK tokens that resolve to the deployed resources, so
 * CloudFormation also orders the function after everything it names.
 */
export function functionEnvironment(spec: FunctionSpec, props: FunctionsProps, schedulerRole?: iam.IRole): Record<string, string> {
  const { resources, data, messaging, storage } = props;
  const env: Record<string, string> = {
    RUST_LOG: 'info',
    HUBBLE_LOCAL_MODE: 'false',
    HUBBLE_RESOURCE_PREFIX: props.prefix,
  };
  for (const t of spec.tables) env[resources.tables[t].env] = data.tables[t].tableName;
  if (spec.event_bus) {
    env[resources.event_bus.env] = messaging.bus.eventBusName;
    env[EVENT_SOURCE_ENV] = resources.event_bus.source;
  }
  for (const k of spec.kms_keys) env[resources.kms_keys[k].env] = data.keys[k].keyArn;
  for (const q of spec.queues) env[resources.queues[q].env] = messaging.queues[q].queue.queueUrl;
  // the loader checked that each of these queues declares dlq_env
  for (const q of spec.dead_letter_queues ?? []) env[resources.queues[q].dlq_env!] = messaging.queues[q].dlq.queueUrl;
  // the generated bucket name (locally <prefix>-<name>)
  for (const b of spec.buckets ?? []) env[resources.buckets[b].env] = storage.buckets[b].bucketName;
  // schedules name their target queue by ARN; the loader checked that each of these queues declares arn_env
  for (const q of spec.scheduler_targets ?? []) env[resources.queues[q].arn_env!] = messaging.queues[q].queue.queueArn;
  if (schedulerRole) env[SCHEDULER_ROLE_ENV] = schedulerRole.roleArn;
  // the loader checked that a websocket_api section exists; the stack that a WebSocket API exists when routed
  if (spec.websocket_callback && props.websocket) env[resources.websocket_api.env] = props.websocket.stage.callbackUrl;
  // access tokens name the HTTP API's issuer, not the WebSocket API's host
  if (spec.trigger.type === 'websocket' && props.httpApi) env[PUBLIC_BASE_URL_ENV] = props.httpApi.apiEndpoint;
  return env;
}

/**
 * The role EventBridge Scheduler assumes for the schedules a function manages at run time (one role per such
 * function): trusted by scheduler.amazonaws.com from this account only, allowed to send to the function's
 * `scheduler_targets` and nothing else. Undefined when the function lists none.
 */
export function createSchedulerRole(scope: Construct, key: string, spec: FunctionSpec, props: FunctionsProps): iam.Role | undefined {
  const targets = spec.scheduler_targets ?? [];
  if (targets.length === 0) return undefined;
  const role = new iam.Role(scope, constructId('SchedulerRole', key), {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: `EventBridge Scheduler role of the schedules the ${props.prefix} ${key} function manages`,
  });
  for (const q of targets) {
    const queue = props.messaging.queues[q].queue;
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    // only for queues encrypted with a customer managed key (ours use SQS-managed encryption)
    queue.encryptionMasterKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
  return role;
}

/** `arn:<partition>:scheduler:<region>:<account>:schedule/default/<prefix>-export-*` */
export function managedSchedulesArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'scheduler',
    resource: 'schedule',
    resourceName: `default/${managedScheduleNamePattern(prefix)}`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** Lambda descriptions hold at most 256 characters: a longer manifest description is cut, with an ellipsis. */
export const LAMBDA_DESCRIPTION_MAX = 256;

export function lambdaDescription(description: string | undefined): string | undefined {
  if (description === undefined || description.length <= LAMBDA_DESCRIPTION_MAX) return description;
  return `${description.slice(0, LAMBDA_DESCRIPTION_MAX - 1).trimEnd()}…`;
}

export function createFunctions(scope: Construct, props: FunctionsProps): Record<string, RustFunction> {
  const { resources, prefix, data, messaging, storage } = props;
  const functions: Record<string, RustFunction> = {};

  for (const [key, spec] of Object.entries(resources.functions)) {
    const id = constructId('Function', key);
    const schedulerRole = createSchedulerRole(scope, key, spec, props);
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
    });
    const fn = new RustFunction(scope, id, {
      functionName: physicalName(prefix, key),
      description: lambdaDescription(spec.description),
      manifestPath: MANIFEST_PATH,
      binaryName: key,
      runtime: 'provided.al2023',
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memory_mb,
      timeout: Duration.seconds(spec.timeout_seconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      environment: functionEnvironment(spec, props, schedulerRole),
      bundling: {
        // Hash the built bootstrap, never the source tree: the asset source is the whole workspace
        // (target/, node_modules, .venv, local/.state, ...). With bundling skipped, CDK then uses a
        // construct-path-based hash instead of fingerprinting the directory.
        assetHashType: AssetHashType.OUTPUT,
      },
    });

    // least privilege: only what resources.json says this function uses
    for (const t of spec.tables) data.tables[t].grantReadWriteData(fn);
    if (spec.event_bus) {
      messaging.bus.grantPutEventsTo(fn);
      // GET /health and readiness checks describe the bus
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['events:DescribeEventBus'], resources: [messaging.bus.eventBusArn] }));
    }
    for (const k of spec.kms_keys) data.keys[k].grant(fn, 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey');
    for (const q of spec.queues) messaging.queues[q].queue.grantSendMessages(fn);
    // dead-lettering on purpose: send to the DLQ, nothing else on it
    for (const q of spec.dead_letter_queues ?? []) messaging.queues[q].dlq.grant(fn, 'sqs:SendMessage');
    // objects read, written and deleted by the function, and through the presigned URLs it signs with its role:
    // GetObject, PutObject (multipart uploads included), AbortMultipartUpload (s3:Abort*), ListMultipartUploadParts
    // and ListBucketMultipartUploads (s3:List*), DeleteObject
    for (const b of spec.buckets ?? []) storage.buckets[b].grantReadWrite(fn);
    // post to and close connections of the WebSocket stage (execute-api:ManageConnections), nothing else
    if (spec.websocket_callback && props.websocket) props.websocket.stage.grantManagementApiAccess(fn);
    if (schedulerRole) {
      // manage its own schedules (never the stack's), and hand them the scheduler role, to Scheduler only
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
          resources: [managedSchedulesArn(scope, prefix)],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }

    if (spec.trigger.type === 'sqs') {
      fn.addEventSource(
        new SqsEventSource(messaging.queues[spec.trigger.queue].queue, {
          batchSize: spec.trigger.batch_size,
          reportBatchItemFailures: spec.trigger.report_batch_item_failures,
        }),
      );
    }
    functions[key] = fn;
  }
  return functions;
}
