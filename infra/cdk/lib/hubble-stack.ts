/**
 * The HubbleWave Integration Hub stack: everything declared in shared/resources/resources.json.
 */
import { CfnOutput, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import { AlarmResources, createAlarms } from './alarms';
import { DataResources, constructId, createData } from './data';
import { createFunctions } from './functions';
import { addHttpRoutes, createHttpApi } from './http-api';
import { MessagingResources, createMessaging } from './messaging';
import { Resources, loadResources } from './resources';
import { DEFAULT_LOG_RETENTION_DAYS, DEFAULT_PREFIX } from './settings';
import { StorageResources, createStorage } from './storage';
import { WebsocketResources, addWebsocketRoutes, createWebsocketApi } from './websocket-api';

export interface HubbleStackProps extends StackProps {
  /** physical names are `<prefix>-<name>` (default "hubble") */
  readonly prefix?: string;
  /** defaults to shared/resources/resources.json */
  readonly resources?: Resources;
  /** e-mail address subscribed to the alarm topic; no topic when unset */
  readonly alarmEmail?: string;
  readonly logRetention?: logs.RetentionDays;
}

export class HubbleStack extends Stack {
  readonly prefix: string;
  readonly resources: Resources;
  readonly data: DataResources;
  readonly messaging: MessagingResources;
  readonly storage: StorageResources;
  readonly functions: Record<string, RustFunction>;
  readonly httpApi?: apigwv2.HttpApi;
  readonly websocket?: WebsocketResources;
  readonly alarms: AlarmResources;

  constructor(scope: Construct, id: string, props: HubbleStackProps = {}) {
    super(scope, id, props);
    this.prefix = props.prefix ?? DEFAULT_PREFIX;
    this.resources = props.resources ?? loadResources();
    Tags.of(this).add('project', 'hubblewave-integration-hub');
    Tags.of(this).add('hubble:prefix', this.prefix);

    this.data = createData(this, this.resources, this.prefix);
    this.messaging = createMessaging(this, this.resources, this.prefix);
    // after messaging: buckets notify its queues
    this.storage = createStorage(this, this.resources, this.messaging);
    // the APIs before the functions (some get their URLs), their routes after
    this.httpApi = createHttpApi(this, this.resources, this.prefix);
    this.websocket = createWebsocketApi(this, this.resources, this.prefix);
    this.functions = createFunctions(this, {
      resources: this.resources,
      prefix: this.prefix,
      logRetention: props.logRetention ?? (DEFAULT_LOG_RETENTION_DAYS as logs.RetentionDays),
      data: this.data,
      messaging: this.messaging,
      storage: this.storage,
      httpApi: this.httpApi,
      websocket: this.websocket,
    });
    if (this.httpApi) addHttpRoutes(this.httpApi, this.resources, this.functions);
    if (this.websocket) addWebsocketRoutes(this.websocket, this.resources, this.functions);
    this.alarms = createAlarms(this, {
      prefix: this.prefix,
      queues: this.messaging.queues,
      queueSpecs: this.resources.queues,
      functions: this.functions,
      alarmEmail: props.alarmEmail,
    });

    if (this.httpApi) {
      new CfnOutput(this, 'ApiUrl', { value: this.httpApi.apiEndpoint, description: 'HTTP API base URL' });
    }
    if (this.websocket) {
      new CfnOutput(this, 'WebSocketUrl', { value: this.websocket.stage.url, description: 'GraphQL subscriptions (graphql-transport-ws)' });
    }
    for (const [key, table] of Object.entries(this.data.tables)) {
      new CfnOutput(this, constructId('TableName', key), {
        value: table.tableName,
        description: `${this.resources.tables[key].env}`,
      });
    }
    new CfnOutput(this, 'EventBusName', {
      value: this.messaging.bus.eventBusName,
      description: this.resources.event_bus.env,
    });
    for (const [key, bucket] of Object.entries(this.storage.buckets)) {
      new CfnOutput(this, constructId('BucketName', key), {
        value: bucket.bucketName,
        description: this.resources.buckets[key].env,
      });
    }
    for (const [key, { queue }] of Object.entries(this.messaging.queues)) {
      new CfnOutput(this, constructId('QueueUrl', key), {
        value: queue.queueUrl,
        description: this.resources.queues[key].env,
      });
    }
  }
}
