use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};

use super::*;

/// The first message of a fixture under events/import-chunk-processor/.
fn fixture(name: &str) -> SqsMessage {
    let path = format!("{}/../../events/import-chunk-processor/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    event.records.into_iter().next().unwrap()
}

#[test]
fn reads_chunk_messages() {
    assert_eq!(
        message_of(&fixture("chunk")).unwrap(),
        ChunkMessage { tenant: "acme".into(), import_id: "01KIMPORT0000000000000000".into(), run: 2, chunk: 7 }
    );
    let mut partial = fixture("chunk");
    partial.body = Some(r#"{"tenant":"acme"}"#.into());
    assert!(message_of(&partial).is_err());
}

#[test]
fn knows_the_last_delivery() {
    assert!(!last_delivery(&fixture("chunk"), 3));
    assert!(last_delivery(&fixture("chunk-last-delivery"), 3));
    let mut unknown = fixture("chunk");
    unknown.attributes.clear();
    assert!(!last_delivery(&unknown, 3), "unknown counts are not the last");
}
