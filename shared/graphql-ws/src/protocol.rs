//! The `graphql-transport-ws` protocol (the `graphql-ws` npm client's,
//! <https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md>): the messages a client sends, and the ones
//! the server sends back.

use serde::Deserialize;
use serde_json::{Value, json};

/// The subprotocol clients ask for in `Sec-WebSocket-Protocol`.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        payload: Option<Value>,
    },
    Subscribe {
        id: String,
        payload: SubscribePayload,
    },
    Complete {
        id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribePayload {
    pub query: String,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

impl ClientMessage {
    /// Parses one text frame; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("the message is not JSON: {e}"))?;
        if !value.is_object() {
            return Err("a message is a JSON object".into());
        }
        if let Some(p) = value.get("payload")
            && !(p.is_object() || p.is_null())
            && value["type"] != "subscribe"
        {
            return Err("`payload` must be an object".into());
        }
        let message: Self = serde_json::from_value(value).map_err(|e| format!("invalid message: {e}"))?;
        if let Self::Subscribe { id, .. } | Self::Complete { id } = &message
            && id.is_empty()
        {
            return Err("`id` must not be empty".into());
        }
        Ok(message)
    }
}

/// Messages the server sends.
pub mod server {
    use super::*;

    pub fn connection_ack() -> String {
        json!({"type": "connection_ack"}).to_string()
    }

    pub fn pong() -> String {
        json!({"type": "pong"}).to_string()
    }

    pub fn next(id: &str, payload: &Value) -> String {
        json!({"type": "next", "id": id, "payload": payload}).to_string()
    }

    /// Errors before execution (syntax, validation, permissions): the operation ends with them.
    pub fn error(id: &str, errors: &Value) -> String {
        json!({"type": "error", "id": id, "payload": errors}).to_string()
    }

    pub fn complete(id: &str) -> String {
        json!({"type": "complete", "id": id}).to_string()
    }
}

/// Why the server ends a connection: the protocol's close codes. API Gateway closes connections without a code of
/// ours (the Management API's DeleteConnection takes none), so these are logged, and documented for clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// 4400: a message the protocol does not allow.
    InvalidMessage,
    /// 4401: `subscribe` before `connection_ack`.
    Unauthorized,
    /// 4403: the credentials of `connection_init` were refused.
    Forbidden,
    /// 4409: a `subscribe` whose id is already in use on the connection.
    SubscriberExists,
    /// 4429: a second `connection_init`.
    TooManyInitialisations,
}

impl Close {
    pub fn code(self) -> u16 {
        match self {
            Self::InvalidMessage => 4400,
            Self::Unauthorized => 4401,
            Self::Forbidden => 4403,
            Self::SubscriberExists => 4409,
            Self::TooManyInitialisations => 4429,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_client_messages() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"connection_init","payload":{"apiKey":"k"}}"#).unwrap(),
            ClientMessage::ConnectionInit { payload: Some(json!({"apiKey": "k"})) }
        );
        assert_eq!(ClientMessage::parse(r#"{"type":"ping"}"#).unwrap(), ClientMessage::Ping { payload: None });
        let sub = ClientMessage::parse(
            r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { a }","variables":{"x":1}}}"#,
        )
        .unwrap();
        let ClientMessage::Subscribe { id, payload } = sub else { panic!() };
        assert_eq!((id.as_str(), payload.variables), ("1", Some(json!({"x": 1}))));
        for bad in [
            "nope",
            "[]",
            r#"{"type":"start","id":"1"}"#,
            r#"{"type":"subscribe","id":"1"}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{a}"}}"#,
            r#"{"type":"connection_init","payload":"token"}"#,
            r#"{"type":"complete"}"#,
        ] {
            assert!(ClientMessage::parse(bad).is_err(), "accepted {bad}");
        }
    }
}
