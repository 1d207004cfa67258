/**
 * S3 buckets from resources.json: private, TLS only, S3-managed encryption, lifecycle rules, the CORS rule that
 * browser uploads through presigned URLs need, and S3 → SQS notifications to the manifest's queues.
 *
 * Bucket names are global, so CloudFormation generates them (no `bucketName`); the functions get the name through
 * the bucket's `env` variable. Locally the name is `<prefix>-<name>` (local/localstack/bootstrap.py, local/runner).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { constructId } from './data';
import { MessagingResources } from './messaging';
import { BucketSpec, Resources } from './resources';

export interface StorageResources {
  readonly buckets: Record<string, s3.Bucket>;
}

/** How long browsers may cache the CORS preflight answer (as the local bootstrap sets it). */
export const CORS_MAX_AGE_SECONDS = 3600;

/** The lifecycle rule id of an expiration: `expire-<prefix without trailing "/">` (as the local bootstrap names it). */
export function expirationRuleId(prefix: string): string {
  return `expire-${prefix.replace(/\/+$/, '')}`;
}

export const ABORT_MULTIPART_RULE_ID = 'abort-incomplete-multipart';

export function lifecycleRules(spec: BucketSpec): s3.LifecycleRule[] {
  return [
    ...(spec.expiration ?? []).map((e) => ({
      id: expirationRuleId(e.prefix),
      enabled: true,
      prefix: e.prefix,
      expiration: Duration.days(e.days),
    })),
    // parts of uploads never completed (or aborted by a crashed client) are not billed forever
    {
      id: ABORT_MULTIPART_RULE_ID,
      enabled: true,
      abortIncompleteMultipartUploadAfter: Duration.days(spec.abort_incomplete_multipart_days),
    },
  ];
}

/**
 * Browsers upload (multipart, one presigned PUT per part) and download through presigned URLs, from any origin the
 * tenant's application runs on; the signature authorizes, not the origin. Completing a multipart upload needs each
 * part's `ETag`, which a browser can only read when it is exposed.
 */
export const CORS_RULE: s3.CorsRule = {
  allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET],
  allowedOrigins: ['*'],
  allowedHeaders: ['*'],
  exposedHeaders: ['ETag'],
  maxAge: CORS_MAX_AGE_SECONDS,
};

export function createStorage(scope: Construct, resources: Resources, messaging: MessagingResources): StorageResources {
  const buckets: Record<string, s3.Bucket> = {};
  for (const [key, spec] of Object.entries(resources.buckets)) {
    const bucket = new s3.Bucket(scope, constructId('Bucket', key), {
      // no bucketName: CloudFormation generates a globally unique one
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: false,
      lifecycleRules: lifecycleRules(spec),
      cors: [CORS_RULE],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const n of spec.notifications ?? []) {
      // also adds a statement to the queue's policy: s3.amazonaws.com may send, for this bucket only
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(messaging.queues[n.target_queue].queue), {
        prefix: n.prefix,
      });
    }
    buckets[key] = bucket;
  }
  return { buckets };
}
