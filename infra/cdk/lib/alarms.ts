/**
 * CloudWatch alarms: one per dead-letter queue (any visible message) and one per function (any error), optionally
 * notifying an SNS topic with an e-mail subscription.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { constructId } from './data';
import { QueuePair } from './messaging';
import { physicalName } from './resources';

export interface AlarmsProps {
  readonly prefix: string;
  readonly queues: Record<string, QueuePair>;
  readonly functions: Record<string, lambda.IFunction>;
  readonly alarmEmail?: string;
}

export interface AlarmResources {
  readonly topic?: sns.Topic;
  readonly dlqAlarms: Record<string, cloudwatch.Alarm>;
  readonly errorAlarms: Record<string, cloudwatch.Alarm>;
}

const PERIOD = Duration.minutes(5);

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
    const alarm = new cloudwatch.Alarm(scope, constructId('DlqAlarm', key), {
      alarmName: physicalName(prefix, `${key}-dlq-not-empty`),
      alarmDescription: `Messages are waiting in the ${prefix} ${key} dead-letter queue.`,
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
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
