use aws_lambda_events::event::sqs::SqsMessage;

use super::*;

fn message(body: &str) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some("m1".into());
    m.body = Some(body.into());
    m
}

#[test]
fn reads_object_created_keys_url_decoded() {
    // the shape S3 (and the emulator, which leaves out userIdentity and more) sends
    let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
        "s3":{"bucket":{"name":"p-files"},"object":{"key":"uploads%2Facme%2F01J%2Fmy+file.csv","size":10}}},
        {"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"uploads/acme/01J/x.csv"}}}]}"#;
    assert_eq!(uploaded_keys(&message(body)).unwrap(), vec!["uploads/acme/01J/my file.csv".to_owned()]);
}

#[test]
fn ignores_the_test_event_and_refuses_other_bodies() {
    let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-26T00:00:00Z","Bucket":"b"}"#;
    assert!(uploaded_keys(&message(test_event)).unwrap().is_empty());
    assert!(uploaded_keys(&message("not json")).is_err());
    assert!(uploaded_keys(&message(r#"{"detail": {}}"#)).is_err());
    assert!(uploaded_keys(&SqsMessage::default()).is_err());
}
