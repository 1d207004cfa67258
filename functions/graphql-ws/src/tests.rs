//! The handler on real-shaped API Gateway WebSocket events (`events/graphql-ws/`) with in-memory adapters.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use hw_graphql_ws::ConnectionStore;
use hw_graphql_ws::testing::MemoryBackend;
use serde_json::json;

use crate::{Deps, handle};

fn event(name: &str, key: &str) -> ApiGatewayWebsocketProxyRequest {
    let path = format!("{}/../../events/graphql-ws/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap().replace("Bearer KEY", &format!("Bearer {key}")))
        .unwrap()
}

#[tokio::test]
async fn connect_init_and_disconnect_through_api_gateway_events() {
    let m = MemoryBackend::new().await;
    let key = m.tenants.create_key("acme", hw_store_key()).await.unwrap().secret;
    let (realtime, store, sender) = m.realtime();
    let deps = Deps::new(&realtime);
    let connection = "Xk1aRfwFoAMCL7g=";

    let r = handle(&deps, event("connect.json", &key)).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(r.headers.get("sec-websocket-protocol").unwrap(), "graphql-transport-ws");
    let opened = store.connection(connection).await.unwrap().unwrap();
    assert_eq!(opened.request_base, "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com");

    let r = handle(&deps, event("connection-init.json", &key)).await;
    assert_eq!(r.status_code, 200);
    assert_eq!(sender.to(connection), [json!({"type": "connection_ack"})]);
    assert_eq!(store.connection(connection).await.unwrap().unwrap().caller.unwrap().principal.tenant, "acme");

    let r = handle(&deps, event("disconnect.json", &key)).await;
    assert_eq!(r.status_code, 200);
    assert!(store.connection(connection).await.unwrap().is_none());

    // A client that does not offer graphql-transport-ws is refused at the handshake.
    let mut plain = event("connect.json", &key);
    plain.headers.remove("sec-websocket-protocol");
    assert_eq!(handle(&deps, plain).await.status_code, 400);
}

fn hw_store_key() -> hw_store::tenants::NewKey {
    hw_store::tenants::NewKey::named("reader", vec!["data:read".into()])
}
