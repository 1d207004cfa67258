//! The data model registry: definition checks, reference targets, safe evolution, model lifecycle events.

use std::sync::Arc;

use hw_aws::events::EventPublisher;
use hw_domain::FieldError;
use hw_domain::event::{Envelope, now_rfc3339};
use hw_domain::model::{Model, ModelInput, check_definition};
use hw_domain::model_change::check_change;

use crate::ports::{ControlStore, DataStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model definition is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no model named `{0}`")]
    NotFound(String),
    #[error("a model named `{0}` already exists")]
    AlreadyExists(String),
    #[error("the model is at version {current}, not the version the request expected")]
    VersionMismatch { current: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("the change would invalidate or orphan stored records")]
    Unsafe(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Models {
    pub control: Arc<dyn ControlStore>,
    pub data: Arc<dyn DataStore>,
    pub publisher: Arc<dyn EventPublisher>,
}

impl Models {
    pub async fn list(&self, tenant: &str) -> Result<Vec<Model>, ModelError> {
        Ok(self.control.list_models(tenant).await?)
    }

    pub async fn get(&self, tenant: &str, name: &str) -> Result<Model, ModelError> {
        self.control.get_model(tenant, name).await?.ok_or_else(|| ModelError::NotFound(name.to_owned()))
    }

    pub async fn create(&self, tenant: &str, input: ModelInput) -> Result<Model, ModelError> {
        self.check(tenant, &input).await?;
        let now = now_rfc3339();
        let model = Model {
            label: input.label.clone().unwrap_or_else(|| default_label(&input.name)),
            name: input.name,
            description: input.description,
            fields: input.fields,
            deprecation: input.deprecation,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
        };
        self.control.put_model(tenant, &model, None).await.map_err(|e| match e {
            StoreError::AlreadyExists => ModelError::AlreadyExists(model.name.clone()),
            other => other.into(),
        })?;
        self.announce("model.created", tenant, &model).await;
        Ok(model)
    }

    /// Replaces a definition. `if_match` is the version the client last saw; without it the current version is
    /// used, and a concurrent change still fails rather than being overwritten.
    pub async fn replace(
        &self,
        tenant: &str,
        name: &str,
        input: ModelInput,
        if_match: Option<u64>,
    ) -> Result<Model, ModelError> {
        if input.name != name {
            return Err(ModelError::Invalid(vec![FieldError::new(
                "/name",
                "name-mismatch",
                format!("the body names `{}` but the URL names `{name}`; models cannot be renamed", input.name),
            )]));
        }
        self.check(tenant, &input).await?;
        let old = self.get(tenant, name).await?;
        if let Some(v) = if_match.filter(|v| *v != old.version) {
            let _ = v;
            return Err(ModelError::VersionMismatch { current: old.version });
        }
        let has_records = self.data.has_records(tenant, name).await?;
        let unsafe_changes = check_change(&old, &input, has_records);
        if !unsafe_changes.is_empty() {
            return Err(ModelError::Unsafe(unsafe_changes));
        }
        let model = Model {
            name: old.name.clone(),
            label: input.label.unwrap_or_else(|| old.label.clone()),
            description: input.description,
            fields: input.fields,
            deprecation: input.deprecation,
            version: old.version + 1,
            created_at: old.created_at.clone(),
            updated_at: now_rfc3339(),
        };
        self.control.put_model(tenant, &model, Some(old.version)).await.map_err(|e| match e {
            StoreError::VersionConflict => ModelError::VersionMismatch { current: old.version + 1 },
            other => other.into(),
        })?;
        self.announce("model.updated", tenant, &model).await;
        Ok(model)
    }

    pub async fn delete(&self, tenant: &str, name: &str, if_match: Option<u64>) -> Result<(), ModelError> {
        let model = self.get(tenant, name).await?;
        if if_match.is_some_and(|v| v != model.version) {
            return Err(ModelError::VersionMismatch { current: model.version });
        }
        let referrers: Vec<String> = self
            .control
            .list_models(tenant)
            .await?
            .into_iter()
            .filter(|m| m.name != name && m.references().any(|(_, t)| t == name))
            .map(|m| m.name)
            .collect();
        if !referrers.is_empty() {
            return Err(ModelError::Conflict(format!(
                "`{name}` is the target of references in {}; remove those fields first",
                referrers.join(", ")
            )));
        }
        if self.data.has_records(tenant, name).await? {
            return Err(ModelError::Conflict(format!("`{name}` still has records; delete them first")));
        }
        self.control.delete_model(tenant, name, model.version).await.map_err(|e| match e {
            StoreError::VersionConflict => {
                ModelError::Conflict(format!("`{name}` changed while it was being deleted; try again"))
            }
            other => other.into(),
        })?;
        self.announce("model.deleted", tenant, &model).await;
        Ok(())
    }

    async fn check(&self, tenant: &str, input: &ModelInput) -> Result<(), ModelError> {
        let mut errors = check_definition(input);
        let targets: Vec<(usize, &str)> = input
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.target.as_deref().map(|t| (i, t)))
            .filter(|(_, t)| *t != input.name)
            .collect();
        if !targets.is_empty() {
            let existing: Vec<String> = self.control.list_models(tenant).await?.into_iter().map(|m| m.name).collect();
            for (i, t) in targets {
                if !existing.iter().any(|e| e == t) {
                    errors.push(FieldError::new(
                        format!("/fields/{i}/target"),
                        "unknown-target",
                        format!("there is no model named `{t}` to reference"),
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(ModelError::Invalid(errors)) }
    }

    /// Model changes are announced best-effort: they are also readable at any time from the registry.
    async fn announce(&self, event_type: &str, tenant: &str, model: &Model) {
        let event = Envelope::new(
            event_type,
            tenant,
            serde_json::json!({"name": model.name, "version": model.version, "model": model}),
        );
        if let Err(e) = self.publisher.publish(&[event]).await {
            tracing::error!(error = %e, event_type, "could not publish model event");
        }
    }
}

fn default_label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
