/**
 * DynamoDB tables and KMS keys from resources.json.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { GsiSpec, KeyAttribute, Resources, TableSpec, kmsAliasName, physicalName } from './resources';

export interface DataResources {
  readonly tables: Record<string, dynamodb.TableV2>;
  readonly keys: Record<string, kms.Key>;
}

function attribute(a: KeyAttribute): dynamodb.Attribute {
  const type = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  }[a.type];
  return { name: a.name, type };
}

function gsi(g: GsiSpec): dynamodb.GlobalSecondaryIndexPropsV2 {
  return {
    indexName: g.name,
    partitionKey: attribute(g.partition_key),
    sortKey: g.sort_key ? attribute(g.sort_key) : undefined,
    projectionType: {
      ALL: dynamodb.ProjectionType.ALL,
      KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
    }[g.projection],
  };
}

function table(scope: Construct, id: string, prefix: string, t: TableSpec): dynamodb.TableV2 {
  return new dynamodb.TableV2(scope, id, {
    tableName: physicalName(prefix, t.name),
    partitionKey: attribute(t.partition_key),
    sortKey: t.sort_key ? attribute(t.sort_key) : undefined,
    billing: dynamodb.Billing.onDemand(),
    globalSecondaryIndexes: t.global_secondary_indexes.map(gsi),
    timeToLiveAttribute: t.ttl_attribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function pascal(key: string): string {
  return key
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** Construct ids are derived from the resources.json keys, so logical ids stay stable when entries are added. */
export function constructId(kind: string, key: string): string {
  return `${pascal(key)}${kind}`;
}

export function createData(scope: Construct, resources: Resources, prefix: string): DataResources {
  const tables: Record<string, dynamodb.TableV2> = {};
  for (const [key, spec] of Object.entries(resources.tables)) {
    tables[key] = table(scope, constructId('Table', key), prefix, spec);
  }
  const keys: Record<string, kms.Key> = {};
  for (const [key, spec] of Object.entries(resources.kms_keys)) {
    keys[key] = new kms.Key(scope, constructId('Key', key), {
      description: spec.description ?? `${prefix} ${key} key`,
      enableKeyRotation: true,
      alias: kmsAliasName(prefix, spec),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
  return { tables, keys };
}
