//! The values resolvers hand to each other: records, connections, edges, page info.

use std::sync::Arc;

use hw_domain::query::Query;
use hw_domain::record::Record;

use crate::context::Node;

/// How a connection learns its `totalCount`: already known (reverse relations read every match), or by walking
/// the query when the field is asked for.
#[derive(Debug, Clone)]
pub enum Total {
    Known(usize),
    Walk(Query),
}

#[derive(Debug, Clone)]
pub struct Connection {
    pub entity: Arc<str>,
    pub edges: Vec<Edge>,
    pub has_next: bool,
    pub has_previous: bool,
    pub total: Total,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub node: Node,
    pub cursor: String,
}

#[derive(Debug, Clone)]
pub struct PageInfo {
    pub has_next: bool,
    pub has_previous: bool,
    pub start: Option<String>,
    pub end: Option<String>,
}

impl Connection {
    pub fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next: self.has_next,
            has_previous: self.has_previous,
            start: self.edges.first().map(|e| e.cursor.clone()),
            end: self.edges.last().map(|e| e.cursor.clone()),
        }
    }
}

pub fn node(entity: &Arc<str>, record: Arc<Record>) -> Node {
    Node { entity: entity.clone(), record }
}
