/**
 * The API Gateway WebSocket API of GraphQL subscriptions (resources.json `websocket_api`): the routes of every
 * function whose trigger type is "websocket" (Lambda proxy integrations; `$connect` answers the handshake, with the
 * chosen `Sec-WebSocket-Protocol`), one auto-deployed stage. Functions with `websocket_callback` post to its
 * connections through the stage's Management API.
 */
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructId } from './data';
import { Resources, physicalName } from './resources';

/** The stage clients connect to: `wss://{api id}.execute-api.{region}.amazonaws.com/live`. */
export const WEBSOCKET_STAGE = 'live';

export interface WebsocketResources {
  readonly api: apigwv2.WebSocketApi;
  readonly stage: apigwv2.WebSocketStage;
}

/** The API and its stage, before the functions (they get the stage's callback URL); undefined without routes. */
export function createWebsocketApi(scope: Construct, resources: Resources, prefix: string): WebsocketResources | undefined {
  if (!Object.values(resources.functions).some((f) => f.trigger.type === 'websocket')) return undefined;
  const api = new apigwv2.WebSocketApi(scope, 'WebSocketApi', {
    apiName: physicalName(prefix, resources.websocket_api.name),
    description: resources.websocket_api.description,
  });
  const stage = new apigwv2.WebSocketStage(scope, 'WebSocketStage', { webSocketApi: api, stageName: WEBSOCKET_STAGE, autoDeploy: true });
  return { api, stage };
}

export function addWebsocketRoutes(ws: WebsocketResources, resources: Resources, functions: Record<string, lambda.IFunction>): void {
  for (const [key, spec] of Object.entries(resources.functions)) {
    if (spec.trigger.type !== 'websocket') continue;
    const integration = new WebSocketLambdaIntegration(constructId('WebSocketIntegration', key), functions[key]);
    for (const route of spec.trigger.routes) ws.api.addRoute(route, { integration });
  }
}
