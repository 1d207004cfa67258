/**
 * Test helpers: synthesize the app exactly as `cdk synth -c skipBundling=true` does (same cdk.json feature flags),
 * and small utilities to read the raw CloudFormation template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../lib/app';
import { HubbleStack } from '../lib/hubble-stack';
import { Resources } from '../lib/resources';

export const CDK_DIR = path.resolve(__dirname, '..');

/** the "context" of cdk.json (feature flags and defaults), so tests see what the CLI sees */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(CDK_DIR, 'cdk.json'), 'utf8')).context ?? {};
}

export interface Synth {
  readonly stack: HubbleStack;
  readonly template: Template;
  readonly json: CfnTemplate;
}

export function synth(context: Record<string, unknown> = {}, resources?: Resources): Synth {
  const { stack } = createApp({
    context: { ...cdkJsonContext(), skipBundling: true, ...context },
    resources,
  });
  // expected here: the tests always skip bundling
  Annotations.of(stack).acknowledgeWarning('hubble:skipBundling');
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as CfnTemplate };
}

export interface CfnResource {
  Type: string;
  Properties?: any;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

export function ofType(tpl: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(tpl.Resources).filter(([, r]) => r.Type === type);
}

/** the one resource of `type` matching `pred`, or undefined (also when ambiguous) */
export function findOne(
  tpl: CfnTemplate,
  type: string,
  pred: (props: any, r: CfnResource) => boolean,
): [string, CfnResource] | undefined {
  const found = ofType(tpl, type).filter(([, r]) => pred(r.Properties ?? {}, r));
  return found.length === 1 ? found[0] : undefined;
}

/** `{Ref: id}` or `{"Fn::GetAtt": [id, attr]}` (attr optional) */
export function isRef(v: unknown, id: string, attr?: string): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (attr === undefined && o.Ref === id) return true;
  const ga = o['Fn::GetAtt'];
  return Array.isArray(ga) && ga[0] === id && (attr === undefined || ga[1] === attr);
}

/** whether `v` contains a Ref/GetAtt to `id` anywhere */
export function mentions(v: unknown, id: string): boolean {
  if (Array.isArray(v)) return v.some((x) => mentions(x, id));
  if (typeof v !== 'object' || v === null) return false;
  if (isRef(v, id)) return true;
  return Object.values(v as Record<string, unknown>).some((x) => mentions(x, id));
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** all IAM statements attached (by AWS::IAM::Policy) to the role with logical id `roleId` */
export function statementsOfRole(tpl: CfnTemplate, roleId: string): any[] {
  return ofType(tpl, 'AWS::IAM::Policy')
    .filter(([, p]) => asArray(p.Properties.Roles).some((r) => isRef(r, roleId)))
    .flatMap(([, p]) => asArray(p.Properties.PolicyDocument.Statement));
}

/** whether some Allow statement grants `action` on a resource expression mentioning `resourceId` */
export function allows(statements: any[], action: string, resourceId: string, resourcePred?: (r: unknown) => boolean): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      asArray<string>(s.Action).includes(action) &&
      asArray(s.Resource).some((r) => mentions(r, resourceId) && (!resourcePred || resourcePred(r))),
  );
}

/** whether the IAM action pattern `pattern` (`s3:Abort*`, `s3:*`, `*`) covers `action` (case-insensitive, as IAM) */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(action);
}

/** like `allows`, but the statement's actions may be wildcards (`s3:Abort*` grants `s3:AbortMultipartUpload`) */
export function allowsMatching(statements: any[], action: string, resourceId: string, resourcePred?: (r: unknown) => boolean): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      asArray<string>(s.Action).some((a) => actionMatches(a, action)) &&
      asArray(s.Resource).some((r) => mentions(r, resourceId) && (!resourcePred || resourcePred(r))),
  );
}

/** every action some Allow statement grants on a resource expression mentioning `resourceId` (sorted, unique) */
export function actionsOn(statements: any[], resourceId: string): string[] {
  const actions = statements
    .filter((s) => s.Effect === 'Allow' && asArray(s.Resource).some((r) => mentions(r, resourceId)))
    .flatMap((s) => asArray<string>(s.Action));
  return [...new Set(actions)].sort();
}

export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
