use std::collections::HashMap;

use aws_lambda_events::event::sqs::SqsMessage;

use super::*;

fn message(body: &str, receive_count: Option<&str>) -> SqsMessage {
    let mut attributes = HashMap::new();
    if let Some(n) = receive_count {
        attributes.insert("ApproximateReceiveCount".to_owned(), n.to_owned());
    }
    let mut m = SqsMessage::default();
    m.message_id = Some("m1".into());
    m.body = Some(body.into());
    m.attributes = attributes;
    m
}

#[test]
fn reads_chunk_messages() {
    let m = message(r#"{"tenant":"acme","import_id":"01J","run":2,"chunk":7}"#, None);
    assert_eq!(
        message_of(&m).unwrap(),
        ChunkMessage { tenant: "acme".into(), import_id: "01J".into(), run: 2, chunk: 7 }
    );
    assert!(message_of(&message(r#"{"tenant":"acme"}"#, None)).is_err());
}

#[test]
fn knows_the_last_delivery() {
    assert!(!last_delivery(&message("{}", Some("1")), 3));
    assert!(!last_delivery(&message("{}", Some("2")), 3));
    assert!(last_delivery(&message("{}", Some("3")), 3));
    assert!(!last_delivery(&message("{}", None), 3), "unknown counts are not the last");
}
