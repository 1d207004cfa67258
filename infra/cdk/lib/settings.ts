/**
 * CDK context flags understood by the app (`-c name=value` on the command line or "context" in cdk.json).
 */
import { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export interface Settings {
  /** physical names are `<prefix>-<name>`; KMS aliases `alias/<prefix>-<alias>` */
  readonly prefix: string;
  /** deployment region; account stays unresolved unless CDK_DEFAULT_ACCOUNT is set */
  readonly region: string;
  /** skip cargo-lambda bundling (synth and tests without cargo-lambda, Docker or AWS credentials) */
  readonly skipBundling: boolean;
  /** when set, alarms notify an SNS topic with an e-mail subscription to this address */
  readonly alarmEmail?: string;
  /** CloudWatch Logs retention of the function log groups */
  readonly logRetentionDays: RetentionDays;
}

export const DEFAULT_PREFIX = 'hubble';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_LOG_RETENTION_DAYS = 30;

/** Standard CDK context key listing the stacks whose assets are bundled (`[]` = none). */
export const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 'yes';
}

export function readSettings(node: Node): Settings {
  const prefix = String(node.tryGetContext('prefix') ?? DEFAULT_PREFIX);
  // SQS names allow 80 characters, the longest derived name is "<prefix>-<queue>-dlq"
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(prefix)) {
    throw new Error(`context "prefix" must be 1-20 characters of a-z, 0-9 and "-", starting with a letter (got "${prefix}")`);
  }
  const region = String(node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION ?? DEFAULT_REGION);
  const alarmEmail = node.tryGetContext('alarmEmail');
  if (alarmEmail !== undefined && alarmEmail !== '' && !/^[^@\s]+@[^@\s]+$/.test(String(alarmEmail))) {
    throw new Error(`context "alarmEmail" is not an e-mail address: "${alarmEmail}"`);
  }
  const retention = Number(node.tryGetContext('logRetentionDays') ?? DEFAULT_LOG_RETENTION_DAYS);
  if (!(Object.values(RetentionDays) as unknown[]).includes(retention)) {
    throw new Error(`context "logRetentionDays" must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...), got ${retention}`);
  }
  return {
    prefix,
    region,
    skipBundling: truthy(node.tryGetContext('skipBundling')),
    alarmEmail: alarmEmail ? String(alarmEmail) : undefined,
    logRetentionDays: retention as RetentionDays,
  };
}
