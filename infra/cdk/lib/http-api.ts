/**
 * One API Gateway HTTP API carrying the routes of every function whose trigger type is "http". The API is created
 * before the functions (functions on the WebSocket API get its URL as the public base URL) and routed after them.
 */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructId } from './data';
import { Resources, parseRoute, physicalName } from './resources';

export function createHttpApi(scope: Construct, resources: Resources, prefix: string): apigwv2.HttpApi | undefined {
  if (!Object.values(resources.functions).some((f) => f.trigger.type === 'http')) return undefined;
  return new apigwv2.HttpApi(scope, 'HttpApi', {
    apiName: physicalName(prefix, 'api'),
    description: `${prefix} HubbleWave Integration Hub HTTP API`,
  });
}

export function addHttpRoutes(api: apigwv2.HttpApi, resources: Resources, functions: Record<string, lambda.IFunction>): void {
  for (const [key, spec] of Object.entries(resources.functions)) {
    if (spec.trigger.type !== 'http') continue;
    const integration = new HttpLambdaIntegration(constructId('Integration', key), functions[key], {
      payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
    });
    for (const route of spec.trigger.routes) {
      const { method, path } = parseRoute(route);
      api.addRoutes({ path, methods: [apigwv2.HttpMethod[method]], integration });
    }
  }
}
