/**
 * CloudWatch alarms: one per dead-letter queue (as its queue's `dlq_alarm` says; by default any visible message) and
 * one per function (any error), optionally notifying an SNS topic with an e-mail subscription.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { constructId } from './data';
import { QueuePair } from './messaging';
import { EffectiveDlqAlarm, QueueSpec, effectiveDlqAlarm, physicalName } from './resources';

export interface AlarmsProps {
  readonly prefix: string;
  readonly queues: Record<string, QueuePair>;
  /** the queues of resources.json (their `dlq_alarm`), by the same keys as `queues` */
  readonly queueSpecs: Record<string, QueueSpec>;
  readonly functions: Record<string, lambda.IFunction>;
  readonly alarmEmail?: string;
}

export interface AlarmResources {
  readonly topic?: sns.Topic;
  readonly dlqAlarms: Record<string, cloudwatch.Alarm>;
  readonly errorAlarms: Record<string, cloudwatch.Alarm>;
}

const PERIOD = Duration.minutes(5);

/**
 * The metric, name and default description of a DLQ alarm.
 *
 * `sent` counts what is sent to the DLQ explicitly (SendMessage, e.g. a consumer dead-lettering on purpose); SQS does
 * not count messages it moves there itself under the redrive policy.
 */
function dlqAlarmShape(dlq: sqs.IQueue, a: EffectiveDlqAlarm, what: string) {
  const period = Duration.seconds(a.period_seconds);
  const minutes = a.period_seconds / 60;
  const within = `within ${minutes === 1 ? 'a minute' : `${minutes} minutes`}`;
  if (a.metric === 'sent') {
    return {
      suffix: 'dlq-arrivals',
      metric: dlq.metricNumberOfMessagesSent({ period, statistic: cloudwatch.Stats.SUM }),
      description: `At least ${a.threshold} messages were sent to the ${what} dead-letter queue ${within}.`,
    };
  }
  return {
    suffix: a.threshold === 1 ? 'dlq-not-empty' : 'dlq-backlog',
    metric: dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
    description:
      a.threshold === 1
        ? `Messages are waiting in the ${what} dead-letter queue.`
        : `At least ${a.threshold} messages are waiting in the ${what} dead-letter queue.`,
  };
}

export function createAlarms(scope: Construct, props: AlarmsProps): AlarmResources {
  const { prefix } = props;
  let topic: sns.Topic | undefined;
  if (props.alarmEmail) {
    topic = new sns.Topic(scope, 'AlarmTopic', {
      topicName: physicalName(prefix, 'alarms'),
      displayName: `${prefix} HubbleWave alarms`,
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  }
  const notify = (alarm: cloudwatch.Alarm) => {
    if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
  };

  const dlqAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const [key, { dlq }] of Object.entries(props.queues)) {
    const spec = props.queueSpecs[key];
    if (!spec) throw new Error(`queue ${key}: not in resources.json`);
    const a = effectiveDlqAlarm(spec);
    const shape = dlqAlarmShape(dlq, a, `${prefix} ${key}`);
    const alarm = new cloudwatch.Alarm(scope, constructId('DlqAlarm', key), {
      alarmName: physicalName(prefix, `${key}-${shape.suffix}`),
      alarmDescription: a.description ?? shape.description,
      metric: shape.metric,
      threshold: a.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notify(alarm);
    dlqAlarms[key] = alarm;
  }

  const errorAlarms: Record<string, cloudwatch.Alarm> = {};
  for (const [key, fn] of Object.entries(props.functions)) {
    const alarm = new cloudwatch.Alarm(scope, constructId('ErrorsAlarm', key), {
      alarmName: physicalName(prefix, `${key}-errors`),
      alarmDescription: `The ${prefix} ${key} function reported errors.`,
      metric: fn.metricErrors({ period: PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    notify(alarm);
    errorAlarms[key] = alarm;
  }
  return { topic, dlqAlarms, errorAlarms };
}
