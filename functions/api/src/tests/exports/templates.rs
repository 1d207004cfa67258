//! Export templates: definitions checked like exports, schedules kept in step, runs by hand.

use hw_export_jobs::ExportMessage;
use serde_json::{Value, json};

use super::{call, pointers, raw, world};

fn nightly() -> Value {
    json!({"name": "Nightly contacts", "entity": "contact", "format": "xlsx", "sort": "email",
           "schedule": "cron(0 6 * * ? *)", "timezone": "Europe/Berlin"})
}

#[tokio::test]
async fn a_scheduled_template_has_its_schedule_and_every_change_keeps_it_in_step() {
    let w = world(&["admin"]).await;
    let (status, t) = call(&w, "POST", "/v1/export-templates", Some(nightly())).await;
    assert_eq!(status, 201, "{t}");
    let id = t["id"].as_str().unwrap().to_owned();
    assert_eq!((t["version"].as_u64(), t["enabled"].as_bool()), (Some(1), Some(true)));
    let schedule = w.schedules.schedules.lock().unwrap().get(&id).cloned().expect("a schedule");
    assert_eq!(
        (schedule.expression.as_str(), schedule.timezone.as_deref(), schedule.tenant.as_str()),
        ("cron(0 6 * * ? *)", Some("Europe/Berlin"), "acme")
    );

    let path = format!("/v1/export-templates/{id}");
    let (status, t) = call(&w, "PATCH", &path, Some(json!({"enabled": false}))).await;
    assert_eq!((status, t["version"].as_u64()), (200, Some(2)));
    assert!(w.schedules.schedules.lock().unwrap().is_empty(), "a disabled template has no schedule");
    let r = raw(&w, "PATCH", &path, Some(json!({"enabled": true})), &[("if-match", "\"1\"")]).await;
    assert_eq!(r.status_code, 412);
    let (_, t) =
        call(&w, "PATCH", &path, Some(json!({"enabled": true, "schedule": "rate(12 hours)", "timezone": null}))).await;
    assert_eq!((t["schedule"].as_str(), t["timezone"].clone()), (Some("rate(12 hours)"), Value::Null));
    assert_eq!(w.schedules.schedules.lock().unwrap()[&id].expression, "rate(12 hours)");
    let (_, t) = call(&w, "PATCH", &path, Some(json!({"schedule": null}))).await;
    assert_eq!(t["schedule"], Value::Null);
    assert!(w.schedules.schedules.lock().unwrap().is_empty(), "no schedule, no firing");

    let (_, t) = call(&w, "PATCH", &path, Some(json!({"schedule": "rate(1 day)"}))).await;
    assert_eq!(t["version"], 5);
    assert_eq!(raw(&w, "DELETE", &path, None, &[]).await.status_code, 204);
    assert!(w.schedules.schedules.lock().unwrap().is_empty());
    assert_eq!(call(&w, "GET", &path, None).await.0, 404);
}

#[tokio::test]
async fn a_template_runs_by_hand_unless_disabled() {
    let w = world(&["admin"]).await;
    let (_, t) =
        call(&w, "POST", "/v1/export-templates", Some(json!({"name": "all", "entity": "contact", "format": "json"})))
            .await;
    let id = t["id"].as_str().unwrap().to_owned();
    assert!(w.schedules.schedules.lock().unwrap().is_empty(), "no schedule asked for");
    let (status, e) = call(&w, "POST", &format!("/v1/export-templates/{id}/run"), None).await;
    assert_eq!(status, 201, "{e}");
    assert_eq!((e["template_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("queued")));
    let export_id = e["id"].as_str().unwrap().to_owned();
    assert_eq!(w.queue.take(), [ExportMessage::Run { tenant: "acme".into(), export_id }]);

    call(&w, "PATCH", &format!("/v1/export-templates/{id}"), Some(json!({"enabled": false}))).await;
    let (status, v) = call(&w, "POST", &format!("/v1/export-templates/{id}/run"), None).await;
    assert_eq!((status, v["type"].as_str()), (409, Some("https://docs.hubblewave.dev/problems/template-disabled")));
    let (status, list) = call(&w, "GET", "/v1/export-templates", None).await;
    assert_eq!((status, list["data"].as_array().unwrap().len()), (200, 1));
    assert_eq!(call(&w, "POST", "/v1/export-templates/tpl_01JH3Q0W9ZK7M8T3V7X6B2N4PQ/run", None).await.0, 404);
}

#[tokio::test]
async fn bad_templates_are_refused_and_leave_no_schedule() {
    let w = world(&["admin"]).await;
    for (change, expected) in [
        (json!({"schedule": "cron(0 6 * * *)"}), vec![("/schedule", "invalid-schedule")]),
        (json!({"schedule": "rate(1 days)"}), vec![("/schedule", "invalid-schedule")]),
        (json!({"schedule": null, "timezone": "Europe/Berlin"}), vec![("/timezone", "invalid-timezone")]),
        (json!({"timezone": "not a zone"}), vec![("/timezone", "invalid-timezone")]),
        (json!({"name": " ", "entity": "invoice"}), vec![("/name", "invalid-value"), ("/entity", "unknown-entity")]),
        (json!({"filter": {"age": {"gt": "x"}}}), vec![("/filter/age/gt", "invalid-value")]),
    ] {
        let mut body = nightly();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, v) = call(&w, "POST", "/v1/export-templates", Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {v}");
        assert_eq!(pointers(&v), expected, "{body}");
    }
    // the scheduler's own refusal (say, of a time zone it does not know) is the client's 422 too
    *w.schedules.refuse.lock().unwrap() = Some("Invalid time zone Mars/Olympus".into());
    let mut body = nightly();
    body["timezone"] = json!("Mars/Olympus");
    let (status, v) = call(&w, "POST", "/v1/export-templates", Some(body)).await;
    assert_eq!((status, pointers(&v)), (422, vec![("/schedule", "invalid-schedule")]));
    assert!(w.schedules.schedules.lock().unwrap().is_empty());
    let (_, list) = call(&w, "GET", "/v1/export-templates", None).await;
    assert_eq!(list["data"], json!([]), "nothing stored");
}
