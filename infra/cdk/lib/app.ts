/**
 * Builds the CDK app from context flags (see lib/settings.ts). Shared by bin/app.ts and the jest tests, so the
 * tests check exactly what `cdk synth` produces.
 */
import { Annotations, App, AppProps } from 'aws-cdk-lib';
import { HubbleStack } from './hubble-stack';
import { Resources } from './resources';
import { BUNDLING_STACKS, readSettings } from './settings';

export const STACK_ID = 'HubbleStack';

export interface CreateAppOptions extends AppProps {
  /** override resources.json (tests) */
  readonly resources?: Resources;
}

export function createApp(options: CreateAppOptions = {}): { app: App; stack: HubbleStack } {
  const { resources, ...appProps } = options;
  const app = new App(appProps);
  const settings = readSettings(app.node);
  if (settings.skipBundling) {
    // Standard CDK switch: no stack is bundled. cargo-lambda-cdk then neither runs `cargo lambda build` nor Docker,
    // and the asset gets a construct-path-based hash (it never fingerprints the workspace directory).
    // Must be set before any construct is added to the app.
    app.node.setContext(BUNDLING_STACKS, []);
  }
  const stack = new HubbleStack(app, STACK_ID, {
    stackName: `${settings.prefix}-integration-hub`,
    description: `HubbleWave Integration Hub (${settings.prefix})`,
    env: {
      // account stays unresolved (env-agnostic) without credentials; region always has a value
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: settings.region,
    },
    prefix: settings.prefix,
    resources,
    alarmEmail: settings.alarmEmail,
    logRetention: settings.logRetentionDays,
  });
  if (settings.skipBundling) {
    Annotations.of(stack).addWarningV2(
      'hubble:skipBundling',
      'Bundling is skipped (skipBundling=true): the Lambda assets are placeholders; do not deploy this assembly.',
    );
  }
  return { app, stack };
}
