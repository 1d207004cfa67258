//! Record writes: validation against the model, unique claims, references, versions, and the event of every
//! change, written to the outbox in the same transaction and published right after.

use std::collections::BTreeMap;
use std::sync::Arc;

use hw_aws::events::EventPublisher;
use hw_domain::FieldError;
use hw_domain::event::{Envelope, now_rfc3339};
use hw_domain::ids;
use hw_domain::model::{FieldType, Model};
use hw_domain::principal::Principal;
use hw_domain::record::{Record, diff};
use hw_domain::validate::{Mode, unique_claim, validate_attributes};
use serde_json::{Map, Value, json};

use crate::cipher::FieldCipher;
use crate::ports::{ControlStore, DataStore, RecordWrite, StoreError, StoredRecord, WriteKind};

/// How often an update without `If-Match` re-reads and re-applies itself when a concurrent write got in first.
const UPDATE_ATTEMPTS: u32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("there is no model named `{0}`")]
    UnknownEntity(String),
    #[error("no `{entity}` record with id `{id}`")]
    NotFound { entity: String, id: String },
    #[error("the record is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the record conflicts with a stored one")]
    Conflict(Vec<FieldError>),
    #[error("a `{entity}` record with id `{id}` already exists")]
    AlreadyExists { entity: String, id: String },
    #[error("the record is at version {current}, not the version the request expected")]
    PreconditionFailed { current: u64 },
    #[error("the record kept changing while this request tried to update it; try again")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Records {
    pub control: Arc<dyn ControlStore>,
    pub data: Arc<dyn DataStore>,
    pub publisher: Arc<dyn EventPublisher>,
    pub cipher: Arc<FieldCipher>,
    pub publication: Publication,
}

/// When the event of a write is published. Either way it is in the outbox from the moment the write commits, so
/// a crash before publication only delays it until the outbox relay's next sweep.
#[derive(Clone, Default)]
pub enum Publication {
    /// Right after each write (requests of the API).
    #[default]
    Immediate,
    /// Collected, and published in batches by [`Records::flush_events`] (bulk writers such as imports: one
    /// PutEvents call per ten records instead of one per record).
    Deferred(Arc<std::sync::Mutex<Vec<Envelope>>>),
}

/// A validated new record and what its write needs.
struct NewRecord {
    record: Record,
    /// The record as stored (sensitive values sealed).
    stored: Record,
    claims: BTreeMap<String, String>,
    references: Vec<(String, String, String)>,
    event: Envelope,
}

impl NewRecord {
    fn write(&self) -> RecordWrite<'_> {
        RecordWrite {
            kind: WriteKind::Create,
            record: &self.stored,
            take_claims: self.claims.clone().into_iter().collect(),
            claims: self.claims.clone(),
            release_claims: vec![],
            references: self.references.clone(),
            event: &self.event,
        }
    }
}

/// Maps a field name to where it sits in the request body, for error pointers.
pub type Pointer<'a> = &'a (dyn Fn(&str) -> String + Sync);

impl Records {
    /// The service over the DynamoDB control and data tables, sealing sensitive fields under data keys that
    /// `keyring` wraps, publishing right after each write (the wiring of every function that writes records).
    pub fn on_dynamo(
        dynamo: aws_sdk_dynamodb::Client,
        control_table: &str,
        data_table: &str,
        keyring: Arc<dyn hw_aws::kms::Keyring>,
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        let control: Arc<dyn ControlStore> =
            Arc::new(crate::dynamo::DynamoControlStore::new(dynamo.clone(), control_table));
        Self {
            cipher: Arc::new(FieldCipher::new(control.clone(), keyring)),
            control,
            data: Arc::new(crate::dynamo::DynamoDataStore::new(dynamo, data_table)),
            publisher,
            publication: Publication::Immediate,
        }
    }

    pub async fn model(&self, tenant: &str, entity: &str) -> Result<Model, RecordError> {
        self.control.get_model(tenant, entity).await?.ok_or_else(|| RecordError::UnknownEntity(entity.to_owned()))
    }

    pub async fn get(&self, p: &Principal, model: &Model, id: &str) -> Result<Record, RecordError> {
        Ok(self.current(p, model, id).await?.record)
    }

    pub async fn list(
        &self,
        p: &Principal,
        model: &Model,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<Record>, Option<String>), RecordError> {
        let (page, next) = self.data.list_records(&p.tenant, &model.name, limit, after).await?;
        let mut records = Vec::with_capacity(page.len());
        for stored in page {
            records.push(self.cipher.open_record(&p.tenant, model, stored.record).await?);
        }
        Ok((records, next))
    }

    pub async fn create(
        &self,
        p: &Principal,
        model: &Model,
        id: Option<String>,
        input: &Map<String, Value>,
        pointer: Pointer<'_>,
    ) -> Result<Record, RecordError> {
        let new = self.prepare_create(p, model, id, input, pointer).await?;
        let write = new.write();
        self.data.write_record(write).await.map_err(|e| explain(e, &model.name, &new.record.id, pointer))?;
        self.publish(new.event).await;
        Ok(new.record)
    }

    /// Creates many records, each on its own (one failing leaves the others alone), with one answer per input in
    /// order. The store may pack several into one transaction, which makes bulk writers such as imports cheaper.
    pub async fn create_many(
        &self,
        p: &Principal,
        model: &Model,
        inputs: Vec<(Option<String>, Map<String, Value>)>,
        pointer: Pointer<'_>,
    ) -> Vec<Result<Record, RecordError>> {
        let mut answers: Vec<Option<Result<Record, RecordError>>> = Vec::with_capacity(inputs.len());
        let mut prepared = Vec::new();
        for (i, (id, input)) in inputs.into_iter().enumerate() {
            match self.prepare_create(p, model, id, &input, pointer).await {
                Ok(new) => {
                    prepared.push((i, new));
                    answers.push(None);
                }
                Err(e) => answers.push(Some(Err(e))),
            }
        }
        let writes = prepared.iter().map(|(_, new)| new.write()).collect();
        let results = self.data.write_records(writes).await;
        for ((i, new), result) in prepared.into_iter().zip(results) {
            answers[i] = Some(match result {
                Ok(()) => {
                    self.publish(new.event).await;
                    Ok(new.record)
                }
                Err(e) => Err(explain(e, &model.name, &new.record.id, pointer)),
            });
        }
        answers.into_iter().map(|a| a.expect("every input answered")).collect()
    }

    /// Validates a new record and builds what its write needs.
    async fn prepare_create(
        &self,
        p: &Principal,
        model: &Model,
        id: Option<String>,
        input: &Map<String, Value>,
        pointer: Pointer<'_>,
    ) -> Result<NewRecord, RecordError> {
        let entity = model.name.as_str();
        let validated = validate_attributes(model, input, Mode::Create, pointer);
        let id = match id {
            Some(id) if !ids::is_valid_record_id(&id) => {
                let mut errors = validated.err().unwrap_or_default();
                errors.insert(
                    0,
                    FieldError::new(
                        "/data/id",
                        "invalid-id",
                        "ids are 1 to 64 letters, digits, `_`, `.` or `-`, starting with a letter or digit",
                    ),
                );
                return Err(RecordError::Invalid(errors));
            }
            Some(id) => id,
            None => ids::new_id(),
        };
        let attributes = validated.map_err(RecordError::Invalid)?.set;
        let now = now_rfc3339();
        let record = Record {
            id,
            entity: entity.to_owned(),
            attributes,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
            created_by: p.actor.clone(),
            updated_by: p.actor.clone(),
        };
        let claims = claims_of(model, &record.attributes);
        let event = Envelope::new(
            "record.created",
            &p.tenant,
            json!({"entity": entity, "id": record.id, "record": redact(model, &record)}),
        );
        let stored = self.cipher.seal_record(&p.tenant, model, &record).await?;
        let references = references_of(model, &record.attributes, |_| true);
        Ok(NewRecord { record, stored, claims, references, event })
    }

    /// Merges `input` into the stored attributes (`null` clears a field). With `if_match` the write happens only
    /// at that version; without it, a concurrent change makes the update re-read and re-apply itself.
    pub async fn update(
        &self,
        p: &Principal,
        model: &Model,
        id: &str,
        input: &Map<String, Value>,
        if_match: Option<u64>,
        pointer: Pointer<'_>,
    ) -> Result<Record, RecordError> {
        let entity = model.name.as_str();
        let validated = validate_attributes(model, input, Mode::Patch, pointer).map_err(RecordError::Invalid)?;
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.current(p, model, id).await?;
            check_precondition(if_match, current.record.version)?;
            let mut attributes = current.record.attributes.clone();
            attributes.extend(validated.set.clone());
            for f in &validated.cleared {
                attributes.remove(f);
            }
            if attributes == current.record.attributes {
                return Ok(current.record); // nothing changes: no new version, no event
            }
            let changes = diff(&current.record.attributes, &attributes);
            let record = Record {
                attributes,
                version: current.record.version + 1,
                updated_at: now_rfc3339(),
                updated_by: p.actor.clone(),
                ..current.record.clone()
            };
            let claims = claims_of(model, &record.attributes);
            let event = Envelope::new(
                "record.updated",
                &p.tenant,
                json!({"entity": entity, "id": id, "record": redact(model, &record), "changes": redact_changes(model, changes.clone())}),
            );
            let write = RecordWrite {
                kind: WriteKind::Update { expected_version: current.record.version },
                record: &record,
                take_claims: claims
                    .iter()
                    .filter(|(f, h)| current.claims.get(*f) != Some(*h))
                    .map(|(f, h)| (f.clone(), h.clone()))
                    .collect(),
                release_claims: current
                    .claims
                    .iter()
                    .filter(|(f, h)| claims.get(*f) != Some(*h))
                    .map(|(f, h)| (f.clone(), h.clone()))
                    .collect(),
                claims,
                references: references_of(model, &record.attributes, |f| changes.contains_key(f)),
                event: &event,
            };
            match self.data.write_record(write).await {
                Ok(()) => {
                    self.publish(event).await;
                    return Ok(record);
                }
                Err(StoreError::VersionConflict) if if_match.is_none() => continue,
                Err(StoreError::VersionConflict) => {
                    let now = self.current(p, model, id).await?.record.version;
                    return Err(RecordError::PreconditionFailed { current: now });
                }
                Err(e) => return Err(explain(e, entity, id, pointer)),
            }
        }
        Err(RecordError::Busy)
    }

    pub async fn delete(
        &self,
        p: &Principal,
        model: &Model,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<(), RecordError> {
        let entity = model.name.as_str();
        for _ in 0..UPDATE_ATTEMPTS {
            let current = self.current(p, model, id).await?;
            check_precondition(if_match, current.record.version)?;
            let event = Envelope::new(
                "record.deleted",
                &p.tenant,
                json!({"entity": entity, "id": id, "record": redact(model, &current.record), "deleted_by": p.actor}),
            );
            let write = RecordWrite {
                kind: WriteKind::Delete { expected_version: current.record.version },
                record: &current.record,
                claims: BTreeMap::new(),
                take_claims: vec![],
                release_claims: current.claims.clone().into_iter().collect(),
                references: vec![],
                event: &event,
            };
            match self.data.write_record(write).await {
                Ok(()) => {
                    self.publish(event).await;
                    return Ok(());
                }
                Err(StoreError::VersionConflict) if if_match.is_none() => continue,
                Err(StoreError::VersionConflict) => {
                    return Err(RecordError::PreconditionFailed { current: current.record.version + 1 });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(RecordError::Busy)
    }

    /// The stored record with its sensitive values opened.
    async fn current(&self, p: &Principal, model: &Model, id: &str) -> Result<StoredRecord, RecordError> {
        let mut stored = self
            .data
            .get_record(&p.tenant, &model.name, id)
            .await?
            .ok_or_else(|| RecordError::NotFound { entity: model.name.clone(), id: id.to_owned() })?;
        stored.record = self.cipher.open_record(&p.tenant, model, stored.record).await?;
        Ok(stored)
    }

    /// The same service, collecting events for [`Records::flush_events`] instead of publishing each at once.
    pub fn deferring(&self) -> Self {
        Self {
            control: self.control.clone(),
            data: self.data.clone(),
            publisher: self.publisher.clone(),
            cipher: self.cipher.clone(),
            publication: Publication::Deferred(Arc::default()),
        }
    }

    /// Publishes the events collected so far (in batches) and clears them from the outbox; what fails to publish
    /// stays in the outbox for the relay. Does nothing for [`Publication::Immediate`].
    pub async fn flush_events(&self) {
        let Publication::Deferred(buffer) = &self.publication else { return };
        let events = std::mem::take(&mut *buffer.lock().expect("event buffer lock"));
        if events.is_empty() {
            return;
        }
        match self.publisher.publish(&events).await {
            Ok(()) => {
                if let Err(e) = self.data.outbox_done(&events).await {
                    tracing::warn!(error = %e, events = events.len(), "published, but outbox entries stay; the relay will publish them again (same ids)");
                }
            }
            Err(e) => tracing::warn!(error = %e, events = events.len(), "events left in the outbox for the relay"),
        }
    }

    /// Publishes right away, or collects for [`Records::flush_events`]; what fails stays in the outbox, where the
    /// outbox relay finds it.
    async fn publish(&self, event: Envelope) {
        if let Publication::Deferred(buffer) = &self.publication {
            buffer.lock().expect("event buffer lock").push(event);
            return;
        }
        let events = [event];
        match self.publisher.publish(&events).await {
            Ok(()) => {
                if let Err(e) = self.data.outbox_done(&events).await {
                    tracing::warn!(error = %e, event_id = %events[0].id, "published, but the outbox entry stays; the relay will publish it again (same id)");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, event_id = %events[0].id, "event left in the outbox for the relay")
            }
        }
    }
}

/// Publishes what has waited in the outbox longer than `min_age`: events whose writer could not publish them.
/// Returns how many were published. Safe to run concurrently and repeatedly (consumers deduplicate by event id).
pub async fn relay_outbox(
    data: &dyn DataStore,
    publisher: &dyn EventPublisher,
    min_age: chrono::Duration,
    batch: usize,
) -> Result<usize, StoreError> {
    let cutoff = (chrono::Utc::now() - min_age).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut total = 0;
    loop {
        let pending = data.outbox_pending(&cutoff, batch).await?;
        if pending.is_empty() {
            return Ok(total);
        }
        publisher.publish(&pending).await.map_err(|e| StoreError::Backend(e.to_string()))?;
        data.outbox_done(&pending).await?;
        total += pending.len();
        if pending.len() < batch {
            return Ok(total);
        }
    }
}

fn check_precondition(if_match: Option<u64>, current: u64) -> Result<(), RecordError> {
    match if_match {
        Some(v) if v != current => Err(RecordError::PreconditionFailed { current }),
        _ => Ok(()),
    }
}

fn claims_of(model: &Model, attributes: &Map<String, Value>) -> BTreeMap<String, String> {
    model
        .fields
        .iter()
        .filter(|f| f.unique)
        .filter_map(|f| attributes.get(&f.name).filter(|v| !v.is_null()).map(|v| (f.name.clone(), unique_claim(f, v))))
        .collect()
}

fn references_of(
    model: &Model,
    attributes: &Map<String, Value>,
    include: impl Fn(&str) -> bool,
) -> Vec<(String, String, String)> {
    model
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Reference && include(&f.name))
        .filter_map(|f| {
            let id = attributes.get(&f.name)?.as_str()?;
            Some((f.name.clone(), f.target.clone()?, id.to_owned()))
        })
        .collect()
}

fn explain(e: StoreError, entity: &str, id: &str, pointer: Pointer<'_>) -> RecordError {
    match e {
        StoreError::AlreadyExists => RecordError::AlreadyExists { entity: entity.to_owned(), id: id.to_owned() },
        StoreError::UniqueViolation { field } => RecordError::Conflict(vec![FieldError::new(
            pointer(&field),
            "not-unique",
            format!("another `{entity}` record already has this `{field}`"),
        )]),
        StoreError::MissingReference { field } => RecordError::Invalid(vec![FieldError::new(
            pointer(&field),
            "missing-reference",
            format!("`{field}` points to a record that does not exist"),
        )]),
        other => other.into(),
    }
}

/// The record as events carry it: sensitive values never leave through events.
fn redact(model: &Model, record: &Record) -> Value {
    let mut r = record.clone();
    for f in model.fields.iter().filter(|f| f.sensitive) {
        r.attributes.remove(&f.name);
    }
    serde_json::to_value(r).expect("record serialises")
}

fn redact_changes(model: &Model, mut changes: Map<String, Value>) -> Map<String, Value> {
    for f in model.fields.iter().filter(|f| f.sensitive) {
        if let Some(c) = changes.get_mut(&f.name) {
            *c = json!({"redacted": true});
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryControlStore, MemoryDataStore};
    use hw_aws::events::RecordingPublisher;

    fn principal() -> Principal {
        Principal::new("acme", "apikey:key_1", vec!["admin".into()])
    }

    async fn setup() -> (Records, Arc<RecordingPublisher>, Arc<MemoryDataStore>) {
        let control = Arc::new(MemoryControlStore::default());
        let data = Arc::new(MemoryDataStore::default());
        let publisher = Arc::new(RecordingPublisher::default());
        for m in [
            json!({"name": "company", "label": "Company", "version": 1, "created_at": "", "updated_at": "", "fields": [{"name": "name", "type": "string", "required": true}]}),
            json!({"name": "contact", "label": "Contact", "version": 1, "created_at": "", "updated_at": "", "fields": [
                {"name": "email", "type": "email", "required": true, "unique": true},
                {"name": "ssn", "type": "string", "sensitive": true},
                {"name": "company", "type": "reference", "target": "company"}]}),
        ] {
            let model: Model = serde_json::from_value(m).unwrap();
            control.put_model("acme", &model, None).await.unwrap();
        }
        let keyring = Arc::new(hw_aws::kms::StaticKeyring::new([3; 32]));
        let cipher = Arc::new(FieldCipher::new(control.clone(), keyring));
        let records = Records {
            control,
            data: data.clone(),
            publisher: publisher.clone(),
            cipher,
            publication: Publication::Immediate,
        };
        (records, publisher, data)
    }

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn ptr(f: &str) -> String {
        format!("/data/attributes/{f}")
    }

    #[tokio::test]
    async fn create_update_delete_publish_events_and_keep_uniqueness() {
        let (records, publisher, data) = setup().await;
        let p = principal();
        let company = records
            .create(&p, &records.model("acme", "company").await.unwrap(), None, &attrs(json!({"name": "Acme"})), &ptr)
            .await
            .unwrap();
        let a = records
            .create(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                None,
                &attrs(json!({"email": "a@x.io", "ssn": "123", "company": company.id})),
                &ptr,
            )
            .await
            .unwrap();
        let dup = records
            .create(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                None,
                &attrs(json!({"email": "A@X.io"})),
                &ptr,
            )
            .await
            .unwrap_err();
        assert!(matches!(&dup, RecordError::Conflict(e) if e[0].pointer == "/data/attributes/email"), "{dup:?}");
        let missing = records
            .create(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                None,
                &attrs(json!({"email": "b@x.io", "company": "nope"})),
                &ptr,
            )
            .await
            .unwrap_err();
        assert!(matches!(&missing, RecordError::Invalid(e) if e[0].code == "missing-reference"));

        let updated = records
            .update(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                &a.id,
                &attrs(json!({"email": "new@x.io"})),
                Some(1),
                &ptr,
            )
            .await
            .unwrap();
        assert_eq!(updated.version, 2);
        // the old value is free again, the new one is taken
        records
            .create(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                None,
                &attrs(json!({"email": "a@x.io"})),
                &ptr,
            )
            .await
            .unwrap();
        assert!(
            records
                .create(
                    &p,
                    &records.model("acme", "contact").await.unwrap(),
                    None,
                    &attrs(json!({"email": "new@x.io"})),
                    &ptr
                )
                .await
                .is_err()
        );
        let stale = records
            .update(
                &p,
                &records.model("acme", "contact").await.unwrap(),
                &a.id,
                &attrs(json!({"ssn": "9"})),
                Some(1),
                &ptr,
            )
            .await
            .unwrap_err();
        assert!(matches!(stale, RecordError::PreconditionFailed { current: 2 }));

        records.delete(&p, &records.model("acme", "contact").await.unwrap(), &a.id, None).await.unwrap();
        assert!(matches!(
            records.get(&p, &records.model("acme", "contact").await.unwrap(), &a.id).await,
            Err(RecordError::NotFound { .. })
        ));

        let raw = data.get_record("acme", "contact", &a.id).await.unwrap();
        assert!(raw.is_none(), "deleted");
        let events = publisher.published.lock().unwrap().clone();
        let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["record.created", "record.created", "record.updated", "record.created", "record.deleted"]);
        assert!(events[1].data["record"]["attributes"].get("ssn").is_none(), "sensitive values stay out of events");
        assert_eq!(events[2].data["changes"]["email"], json!({"from": "a@x.io", "to": "new@x.io"}));
        assert!(data.outbox_pending("9999", 10).await.unwrap().is_empty(), "published events leave the outbox");
    }

    #[tokio::test]
    async fn events_that_cannot_be_published_wait_in_the_outbox_for_the_relay() {
        let (records, publisher, data) = setup().await;
        publisher.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        records
            .create(
                &principal(),
                &records.model("acme", "company").await.unwrap(),
                None,
                &attrs(json!({"name": "Acme"})),
                &ptr,
            )
            .await
            .unwrap();
        assert_eq!(data.outbox_pending("9999", 10).await.unwrap().len(), 1);
        publisher.fail.store(false, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await; // event times have millisecond precision
        let n = relay_outbox(data.as_ref(), publisher.as_ref(), chrono::Duration::zero(), 10).await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(publisher.published.lock().unwrap()[0].event_type, "record.created");
        assert!(data.outbox_pending("9999", 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_patch_that_changes_nothing_makes_no_version_and_no_event() {
        let (records, publisher, _) = setup().await;
        let p = principal();
        let c = records
            .create(&p, &records.model("acme", "company").await.unwrap(), None, &attrs(json!({"name": "Acme"})), &ptr)
            .await
            .unwrap();
        let same = records
            .update(
                &p,
                &records.model("acme", "company").await.unwrap(),
                &c.id,
                &attrs(json!({"name": "Acme"})),
                None,
                &ptr,
            )
            .await
            .unwrap();
        assert_eq!(same.version, 1);
        assert_eq!(publisher.published.lock().unwrap().len(), 1);
    }
}
