/**
 * One API Gateway HTTP API carrying the routes of every function whose trigger type is "http".
 */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructId } from './data';
import { Resources, parseRoute, physicalName } from './resources';

export function createHttpApi(
  scope: Construct,
  resources: Resources,
  prefix: string,
  functions: Record<string, lambda.IFunction>,
): apigwv2.HttpApi | undefined {
  const routed = Object.entries(resources.functions).filter(([, f]) => f.trigger.type === 'http');
  if (routed.length === 0) return undefined;

  const api = new apigwv2.HttpApi(scope, 'HttpApi', {
    apiName: physicalName(prefix, 'api'),
    description: `${prefix} HubbleWave Integration Hub HTTP API`,
  });
  for (const [key, spec] of routed) {
    if (spec.trigger.type !== 'http') continue;
    const integration = new HttpLambdaIntegration(constructId('Integration', key), functions[key], {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    for (const route of spec.trigger.routes) {
      const { method, path } = parseRoute(route);
      api.addRoutes({ path, methods: [apigwv2.HttpMethod[method]], integration });
    }
  }
  return api;
}
