use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};

use super::*;

/// The first message of a fixture under events/import-planner/.
fn fixture(name: &str) -> SqsMessage {
    let path = format!("{}/../../events/import-planner/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    event.records.into_iter().next().unwrap()
}

fn with_body(body: &str) -> SqsMessage {
    let mut m = fixture("object-created");
    m.body = Some(body.into());
    m
}

#[test]
fn reads_object_created_keys_url_decoded() {
    assert_eq!(
        uploaded_keys(&fixture("object-created")).unwrap(),
        vec!["uploads/acme/01KIMPORT0000000000000000/My File(1).csv".to_owned()]
    );
    // the emulator leaves out userIdentity and more; other events are not uploads
    let lean = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"uploads%2Facme%2F01J%2Fa.csv"}}},
        {"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"uploads/acme/01J/x.csv"}}}]}"#;
    assert_eq!(uploaded_keys(&with_body(lean)).unwrap(), vec!["uploads/acme/01J/a.csv".to_owned()]);
}

#[test]
fn ignores_the_test_event_and_refuses_other_bodies() {
    assert!(uploaded_keys(&fixture("test-event")).unwrap().is_empty());
    assert!(uploaded_keys(&with_body("not json")).is_err());
    assert!(uploaded_keys(&with_body(r#"{"detail": {}}"#)).is_err());
    assert!(uploaded_keys(&SqsMessage::default()).is_err());
}
