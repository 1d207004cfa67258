/**
 * The event bus, SQS queues with their dead-letter queues, and EventBridge Scheduler schedules from resources.json.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructId } from './data';
import { Resources, dlqName, physicalName } from './resources';

export interface QueuePair {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
}

export interface MessagingResources {
  readonly bus: events.EventBus;
  readonly queues: Record<string, QueuePair>;
  readonly schedules: Record<string, scheduler.CfnSchedule>;
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

  return { bus, queues, schedules };
}
