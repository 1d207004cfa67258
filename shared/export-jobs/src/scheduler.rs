//! The EventBridge Scheduler adapter of `Schedules`: one schedule per scheduled template, named
//! `{prefix}-export-{template id}` in the `default` group, sending [`ExportMessage::scheduled_input`] to the
//! exports queue with the role the deployment provides for that (see `scheduler_targets` in `hw-resources`).

use async_trait::async_trait;
use aws_sdk_scheduler::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};

use crate::ports::ExportMessage;
use crate::schedule::{ScheduleError, ScheduleSpec, Schedules};

pub struct EventBridgeSchedules {
    client: aws_sdk_scheduler::Client,
    /// Physical-name prefix of the deployment.
    prefix: String,
    queue_arn: String,
    role_arn: String,
}

impl EventBridgeSchedules {
    pub fn new(
        client: aws_sdk_scheduler::Client,
        prefix: impl Into<String>,
        queue_arn: impl Into<String>,
        role_arn: impl Into<String>,
    ) -> Self {
        Self { client, prefix: prefix.into(), queue_arn: queue_arn.into(), role_arn: role_arn.into() }
    }

    /// The schedule's name: the local runner fires every schedule whose name starts with the prefix.
    pub fn name(&self, template_id: &str) -> String {
        schedule_name(&self.prefix, template_id)
    }
}

/// `{prefix}-export-{template id}`.
pub fn schedule_name(prefix: &str, template_id: &str) -> String {
    format!("{prefix}-export-{template_id}")
}

fn refused<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> ScheduleError {
    match e.as_service_error().and_then(|s| s.code()) {
        Some("ValidationException") => {
            ScheduleError::Invalid(e.as_service_error().and_then(|s| s.message()).unwrap_or("invalid").to_owned())
        }
        _ => ScheduleError::Unavailable(DisplayErrorContext(&e).to_string()),
    }
}

#[async_trait]
impl Schedules for EventBridgeSchedules {
    async fn put(&self, spec: &ScheduleSpec) -> Result<(), ScheduleError> {
        let name = self.name(&spec.template_id);
        let target = Target::builder()
            .arn(&self.queue_arn)
            .role_arn(&self.role_arn)
            .input(ExportMessage::scheduled_input(&spec.tenant, &spec.template_id))
            .build()
            .map_err(|e| ScheduleError::Invalid(e.to_string()))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| ScheduleError::Invalid(e.to_string()))?;
        let description = format!("HubbleWave export template {} of tenant {}", spec.template_id, spec.tenant);
        // Create and update take the same members; only the operation differs.
        macro_rules! put_schedule {
            ($op:ident) => {
                self.client
                    .$op()
                    .name(&name)
                    .schedule_expression(&spec.expression)
                    .set_schedule_expression_timezone(spec.timezone.clone())
                    .flexible_time_window(window.clone())
                    .target(target.clone())
                    .description(&description)
                    .send()
                    .await
                    .map(drop)
            };
        }
        match put_schedule!(create_schedule) {
            Ok(()) => Ok(()),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConflictException") => {
                put_schedule!(update_schedule).map_err(refused)
            }
            Err(e) => Err(refused(e)),
        }
    }

    async fn delete(&self, template_id: &str) -> Result<(), ScheduleError> {
        match self.client.delete_schedule().name(self.name(template_id)).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(refused(e)),
        }
    }
}
