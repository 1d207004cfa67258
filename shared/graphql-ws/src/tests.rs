//! The protocol and the publisher on in-memory adapters: what a client is sent for each message, what is stored,
//! and which events reach which subscriptions.

use std::sync::Arc;

use hw_aws::events::RecordingPublisher;
use hw_domain::event::Envelope;
use hw_domain::principal::Principal;
use hw_store::records::Records;
use hw_store::tenants::{NewKey, Tenants};
use serde_json::{Value, json};

use crate::publish::Publisher;
use crate::sender::RecordingSender;
use crate::session::{Handshake, Sessions};
use crate::store::{ConnectionStore, MemoryConnections};

const NOW: i64 = 1_800_000_000;

struct World {
    records: Arc<Records>,
    events: Arc<RecordingPublisher>,
    tenants: Tenants,
    store: Arc<MemoryConnections>,
    sender: Arc<RecordingSender>,
    sessions: Sessions,
    publisher: Publisher,
    /// `data:read` on acme.
    reader: String,
    reader_id: String,
    /// `data:read` on globex.
    other: String,
}

impl World {
    async fn new() -> Self {
        let m = crate::testing::MemoryBackend::new().await;
        let reader = m.tenants.create_key("acme", NewKey::named("reader", vec!["data:read".into()])).await.unwrap();
        let other = m.tenants.create_key("globex", NewKey::named("reader", vec!["data:read".into()])).await.unwrap();
        let (realtime, store, sender) = m.realtime();
        let (sessions, publisher) = (realtime.sessions(), realtime.publisher());
        Self {
            records: m.records,
            events: m.events,
            tenants: m.tenants,
            store,
            sender,
            sessions,
            publisher,
            reader: reader.secret,
            reader_id: reader.meta.id,
            other: other.secret,
        }
    }

    /// A connection through `$connect` and an accepted `connection_init` with `key`.
    async fn connected(&self, id: &str, key: &str) {
        let hs = self.sessions.connect(id, Some("graphql-transport-ws"), "http://localhost", NOW).await.unwrap();
        assert_eq!(hs, Handshake::Accept { subprotocol: "graphql-transport-ws" });
        self.say(id, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {key}")}})).await;
        assert_eq!(self.sender.to(id).last(), Some(&json!({"type": "connection_ack"})), "{id} acknowledged");
    }

    async fn say(&self, id: &str, message: Value) {
        self.sessions.message(id, &message.to_string(), NOW).await.unwrap();
    }

    async fn subscribe(&self, id: &str, op: &str, query: &str) {
        self.say(id, json!({"id": op, "type": "subscribe", "payload": {"query": query}})).await;
    }

    fn closed(&self, id: &str) -> bool {
        self.sender.closed.lock().unwrap().iter().any(|c| c == id)
    }

    /// Creates a record as `tenant`'s admin and hands the event it published to the publisher.
    async fn create(&self, tenant: &str, entity: &str, attributes: Value) -> crate::Published {
        self.create_with_id(tenant, entity, attributes).await.0
    }

    async fn create_with_id(&self, tenant: &str, entity: &str, attributes: Value) -> (crate::Published, String) {
        let admin = Principal::new(tenant, "apikey:seed", vec!["admin".into()]);
        let model = self.records.model(tenant, entity).await.unwrap();
        let attrs = attributes.as_object().unwrap().clone();
        let record = self.records.create(&admin, &model, None, &attrs, &|f| f.into()).await.unwrap();
        let event: Envelope = self.events.published.lock().unwrap().pop().expect("an event");
        (self.publisher.publish(event, NOW).await.unwrap(), record.id)
    }

    /// The `next` payloads sent to a connection.
    fn nexts(&self, id: &str) -> Vec<Value> {
        self.sender.to(id).into_iter().filter(|m| m["type"] == "next").collect()
    }
}

#[tokio::test]
async fn the_handshake_needs_the_subprotocol_and_credentials() {
    let w = World::new().await;
    let refused = w.sessions.connect("c0", Some("graphql-ws"), "http://localhost", NOW).await.unwrap();
    assert!(matches!(refused, Handshake::Refuse { status: 400, .. }));
    let accepted = w.sessions.connect("c1", Some("foo, graphql-transport-ws"), "http://localhost", NOW).await.unwrap();
    assert_eq!(accepted, Handshake::Accept { subprotocol: "graphql-transport-ws" });

    // subscribe before connection_init: 4401, closed and forgotten
    w.subscribe("c1", "1", "subscription { contactCreated { email } }").await;
    assert!(w.closed("c1") && w.store.connection("c1").await.unwrap().is_none());

    // a bad key: closed, never acknowledged
    w.sessions.connect("c2", Some("graphql-transport-ws"), "http://localhost", NOW).await.unwrap();
    w.say("c2", json!({"type": "connection_init", "payload": {"apiKey": "hw_not_a_key"}})).await;
    assert!(w.closed("c2") && w.sender.to("c2").is_empty());

    // a good one (as apiKey), then a second connection_init: 4429
    w.sessions.connect("c3", Some("graphql-transport-ws"), "http://localhost", NOW).await.unwrap();
    w.say("c3", json!({"type": "connection_init", "payload": {"apiKey": w.reader}})).await;
    assert_eq!(w.sender.to("c3"), [json!({"type": "connection_ack"})]);
    w.say("c3", json!({"type": "ping"})).await;
    assert_eq!(w.sender.to("c3").last(), Some(&json!({"type": "pong"})));
    w.say("c3", json!({"type": "connection_init", "payload": {"apiKey": w.reader}})).await;
    assert!(w.closed("c3"));

    // not a protocol message: 4400
    w.connected("c4", &w.reader).await;
    w.sessions.message("c4", "{\"type\":\"start\"}", NOW).await.unwrap();
    assert!(w.closed("c4"));
}

#[tokio::test]
async fn subscriptions_are_checked_when_they_arrive() {
    let w = World::new().await;
    w.connected("c", &w.reader).await;
    w.subscribe("c", "bad", r#"subscription { contactCreated(filter: {age: {gt: "old"}}) { email } }"#).await;
    w.subscribe("c", "nope", "subscription { contactCreated { nope } }").await;
    let errors: Vec<Value> = w.sender.to("c").into_iter().filter(|m| m["type"] == "error").collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0]["id"].as_str(), errors[1]["id"].as_str()), (Some("bad"), Some("nope")));
    assert!(errors.iter().all(|e| e["payload"][0]["message"].is_string()));
    assert!(w.store.subscribers("acme", "contact").await.unwrap().is_empty());

    w.subscribe("c", "ok", "subscription { contactCreated(filter: {age: {gte: 18}}) { email } }").await;
    let stored = w.store.subscribers("acme", "contact").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].event_type.as_str(), stored[0].id.as_str()), ("record.created", "ok"));

    // a connection holds at most MAX_SUBSCRIPTIONS_PER_CONNECTION; the one over is refused with an error
    for i in 1..crate::store::MAX_SUBSCRIPTIONS_PER_CONNECTION {
        w.subscribe("c", &format!("s{i}"), "subscription { companyDeleted { name } }").await;
    }
    w.subscribe("c", "over", "subscription { companyDeleted { name } }").await;
    let over = w.sender.to("c").pop().unwrap();
    assert_eq!((over["type"].as_str(), over["id"].as_str()), (Some("error"), Some("over")), "{over}");
    assert_eq!(over["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS");
    w.say("c", json!({"type": "complete", "id": "s1"})).await;
    w.subscribe("c", "after", "subscription { companyDeleted { name } }").await;
    assert_eq!(w.store.subscribers("acme", "company").await.unwrap().len(), 99);

    // the same id again: 4409
    w.subscribe("c", "ok", "subscription { contactDeleted { email } }").await;
    assert!(w.closed("c") && w.store.subscribers("acme", "contact").await.unwrap().is_empty());
}

#[tokio::test]
async fn queries_over_the_socket_answer_next_then_complete() {
    let w = World::new().await;
    w.connected("c", &w.reader).await;
    w.subscribe("c", "q", "query { companies { totalCount } }").await;
    let sent = w.sender.to("c");
    assert_eq!(sent[1], json!({"type": "next", "id": "q", "payload": {"data": {"companies": {"totalCount": 0}}}}));
    assert_eq!(sent[2], json!({"type": "complete", "id": "q"}));
    w.subscribe("c", "m", r#"mutation { createCompany(input: {name: "x"}) { id } }"#).await;
    let sent = w.sender.to("c");
    let next = &sent[sent.len() - 2];
    assert_eq!(next["type"], "next", "field errors come in next: {next}");
    assert_eq!(next["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN");
    assert_eq!(sent[sent.len() - 1], json!({"type": "complete", "id": "m"}));
    w.subscribe("c", "s", "query { companies { ").await;
    assert_eq!(w.sender.to("c").pop().unwrap()["type"], "error");
}

#[tokio::test]
async fn events_reach_the_subscriptions_they_match() {
    let w = World::new().await;
    w.connected("a1", &w.reader).await;
    w.connected("a2", &w.reader).await;
    w.connected("g", &w.other).await;
    let adults = "subscription { contactCreated(filter: {age: {gte: 18}}) { email company { name } } }";
    w.subscribe("a1", "1", adults).await;
    w.subscribe("a2", "7", adults).await;
    w.subscribe("a2", "8", "subscription { companyCreated { name } }").await;
    w.subscribe("g", "1", "subscription { contactCreated { email } }").await;

    let (p, id) = w.create_with_id("acme", "company", json!({"name": "Hooli"})).await;
    assert_eq!((p.subscriptions, p.delivered), (1, 1));
    let company = w.nexts("a2")[0]["payload"]["data"]["companyCreated"]["name"].clone();
    assert_eq!(company, "Hooli");

    let p = w.create("acme", "contact", json!({"email": "kid@hooli.example", "age": 9, "company": id})).await;
    assert_eq!((p.subscriptions, p.delivered), (2, 0), "the filter leaves it out");
    let p = w.create("acme", "contact", json!({"email": "gavin@hooli.example", "age": 50, "company": id})).await;
    assert_eq!((p.subscriptions, p.delivered), (2, 2));
    let expected = json!({"data": {"contactCreated": {"email": "gavin@hooli.example", "company": {"name": "Hooli"}}}});
    assert_eq!(w.nexts("a1"), [json!({"type": "next", "id": "1", "payload": expected})]);
    assert_eq!(w.nexts("a2").last().unwrap()["id"], "7");
    assert!(w.nexts("g").is_empty(), "another tenant's subscriber sees nothing");

    // complete stops one subscription; a connection that is gone is forgotten
    w.say("a1", json!({"type": "complete", "id": "1"})).await;
    w.sender.gone.lock().unwrap().push("a2".into());
    let p = w.create("acme", "contact", json!({"email": "erlich@hooli.example", "age": 40})).await;
    assert_eq!((p.subscriptions, p.delivered, p.closed), (1, 0, 1));
    assert!(w.store.subscribers("acme", "contact").await.unwrap().is_empty());
    assert!(w.store.connection("a2").await.unwrap().is_none());
}

#[tokio::test]
async fn a_revoked_key_ends_its_subscriptions() {
    let w = World::new().await;
    w.connected("c", &w.reader).await;
    w.subscribe("c", "1", "subscription { companyCreated { name } }").await;
    assert_eq!(w.create("acme", "company", json!({"name": "One"})).await.delivered, 1);
    w.tenants.revoke_key("acme", &w.reader_id).await.unwrap();
    let p = w.create("acme", "company", json!({"name": "Two"})).await;
    assert_eq!((p.delivered, p.closed), (0, 1));
    assert!(w.closed("c") && w.store.connection("c").await.unwrap().is_none());
    assert_eq!(w.nexts("c").len(), 1);
}
