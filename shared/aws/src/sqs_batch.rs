//! The answer of an SQS-triggered function: the messages that failed, so that Lambda deletes the others and only
//! those come back (`ReportBatchItemFailures`).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};

/// A batch response naming `failed` message ids; empty when everything succeeded.
pub fn failures(failed: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_each_failed_message() {
        let r = super::failures(["a".to_owned(), "b".to_owned()]);
        let ids: Vec<&str> = r.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(super::failures(Vec::new()).batch_item_failures.is_empty());
    }
}
