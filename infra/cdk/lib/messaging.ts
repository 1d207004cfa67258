/**
 * The event bus, SQS queues with their dead-letter queues, EventBridge Scheduler schedules and the bus rules that
 * feed queues, from resources.json.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructId } from './data';
import { EventPatternSpec, Resources, dlqName, physicalName } from './resources';

export interface QueuePair {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
}

export interface MessagingResources {
  readonly bus: events.EventBus;
  readonly queues: Record<string, QueuePair>;
  readonly schedules: Record<string, scheduler.CfnSchedule>;
  readonly rules: Record<string, events.Rule>;
}

/**
 * The pattern of resources.json as CDK's `EventPattern`. CDK renders its fields verbatim except `detailType`, which
 * it writes as `detail-type`; so the one field spelled differently is renamed and the synthesized pattern is exactly
 * the one in resources.json (the loader refuses a literal `detailType` field).
 */
export function eventPattern(spec: EventPatternSpec): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) out[k === 'detail-type' ? 'detailType' : k] = v;
  return out as events.EventPattern;
}

export function createMessaging(scope: Construct, resources: Resources, prefix: string): MessagingResources {
  const bus = new events.EventBus(scope, 'EventBus', {
    eventBusName: physicalName(prefix, resources.event_bus.name),
  });

  const queues: Record<string, QueuePair> = {};
  for (const [key, spec] of Object.entries(resources.queues)) {
    const dlq = new sqs.Queue(scope, constructId('Dlq', key), {
      queueName: dlqName(prefix, spec),
      retentionPeriod: Duration.seconds(spec.dlq_retention_seconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const queue = new sqs.Queue(scope, constructId('Queue', key), {
      queueName: physicalName(prefix, spec.name),
      visibilityTimeout: Duration.seconds(spec.visibility_timeout_seconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: dlq, maxReceiveCount: spec.max_receive_count },
    });
    queues[key] = { queue, dlq };
  }

  const schedules: Record<string, scheduler.CfnSchedule> = {};
  for (const [key, spec] of Object.entries(resources.schedules)) {
    const target = queues[spec.target_queue].queue;
    // one role per schedule: it may only send to its own target queue
    const role = new iam.Role(scope, constructId('ScheduleRole', key), {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: `EventBridge Scheduler role of the ${prefix} ${key} schedule`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [target.queueArn],
      }),
    );
    const schedule = new scheduler.CfnSchedule(scope, constructId('Schedule', key), {
      name: physicalName(prefix, key),
      description: spec.description,
      scheduleExpression: spec.expression,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: target.queueArn,
        roleArn: role.roleArn,
        input: JSON.stringify(spec.input),
      },
    });
    // the schedule must not fire before its role may send
    schedule.node.addDependency(role);
    schedules[key] = schedule;
  }

  const rules: Record<string, events.Rule> = {};
  for (const [key, spec] of Object.entries(resources.rules)) {
    rules[key] = new events.Rule(scope, constructId('Rule', key), {
      ruleName: physicalName(prefix, key),
      description: spec.description,
      eventBus: bus,
      eventPattern: eventPattern(spec.pattern),
      // also adds a statement to the queue policy: events.amazonaws.com may send, for this rule's ARN only
      targets: [new targets.SqsQueue(queues[spec.target_queue].queue)],
    });
  }

  return { bus, queues, schedules, rules };
}
