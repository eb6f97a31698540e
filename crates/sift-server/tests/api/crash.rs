//! A server killed with SIGKILL in the middle of a long refresh: after a restart the
//! refresh ends within its lease, the old membership stays readable, and new refresh
//! requests are accepted. Runs the real `sift` binary.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sift_client::Client;
use sift_core::model::{DataFieldType, MergeOption};
use sift_core::record::FieldValue;
use sift_server::process::{self, free_port, ServeProcess};
use sift_store::contacts::ImportRow;

fn start_sift(db: &str, port: u16, lease_secs: u64) -> ServeProcess {
    ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_sift")), db, port, &["--lease-secs", &lease_secs.to_string()], false)
        .expect("start sift")
}

async fn wait_up(c: &Client) {
    process::wait_up(c, Duration::from_secs(30)).await.expect("server up");
}

async fn segment_contacts(c: &Client, id: i64) -> i64 {
    let list = c.get("/v2/segments").await.unwrap().ok().unwrap();
    list.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["contacts"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_long_refresh_loses_nothing_and_the_status_does_not_stick() {
    if crate::helpers::backend() != "sqlite" {
        return; // The multi-replica PostgreSQL test covers this on PostgreSQL.
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db").to_string_lossy().to_string();
    const N: usize = 300_000;
    // Seed the store directly: the subject here is the refresh, not the import.
    let (account, user, password) = {
        let store = sift_store::Store::open(&db).await.unwrap();
        let (account, user, password) = sift_server::create_account(&store, "crash").await.unwrap();
        let spend =
            store.create_data_field(account, "SPEND", DataFieldType::Numeric, sift_core::model::Visibility::Private, None).await.unwrap();
        let city =
            store.create_data_field(account, "CITY", DataFieldType::String, sift_core::model::Visibility::Private, None).await.unwrap();
        let fields = store.data_fields(account).await.unwrap();
        let cities = ["Leeds", "York", "Hull", "Bath"];
        for chunk_start in (0..N).step_by(50_000) {
            let rows: Vec<ImportRow> = (chunk_start..chunk_start + 50_000)
                .map(|i| ImportRow {
                    email: format!("c{i}@example.com"),
                    opt_in: None,
                    email_type: None,
                    data: vec![
                        (spend.id, Some(FieldValue::Num((i % 1000) as f64))),
                        (city.id, Some(FieldValue::Str(cities[i % 4].into()))),
                    ],
                })
                .collect();
            let mut w = store.write().await.unwrap();
            store.import_batch(&mut w.tx, account, &fields, &rows, None, MergeOption::Overwrite).await.unwrap();
            w.commit().await.unwrap();
        }
        store.close().await;
        (account, user, password)
    };
    let _ = account;
    let lease = 2u64;
    let port = free_port().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let c = Client::new(&base, &user, &password);

    let mut server = start_sift(&db, port, lease);
    wait_up(&c).await;
    let seg =
        c.create_segment("big spenders", json!({"field": "dataFields.SPEND", "op": "greaterThanOrEqual", "value": 500})).await.unwrap();
    assert_eq!(c.wait_refresh(seg, Duration::from_secs(120)).await.unwrap(), "Finished");
    let old = segment_contacts(&c, seg).await;
    assert_eq!(old, (N / 2) as i64);
    server.kill9();

    // Restart (cold index, so the next refresh takes a while), change the rule, and
    // kill the process while that refresh is running.
    let mut server = start_sift(&db, port, lease);
    wait_up(&c).await;
    let r = c
        .put(&format!("/v2/segments/{seg}"), &json!({"rule": {"field": "dataFields.CITY", "op": "equals", "value": "leeds"}}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let start = Instant::now();
    let mut saw_running = false;
    while start.elapsed() < Duration::from_secs(60) {
        let s = c.get(&format!("/v2/segments/refresh/{seg}")).await.unwrap().ok().unwrap();
        match s["status"].as_str().unwrap() {
            "NotFinished" => {
                saw_running = true;
                break;
            }
            "Finished" | "Failed" => break,
            _ => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    assert!(saw_running, "the refresh should have been caught running");
    server.kill9();

    // After the restart the old membership is readable while the refresh is redone.
    let killed_at = Instant::now();
    let server = start_sift(&db, port, lease);
    wait_up(&c).await;
    let mut last = String::new();
    while killed_at.elapsed() < Duration::from_secs(lease + 60) {
        let s = c.get(&format!("/v2/segments/refresh/{seg}")).await.unwrap().ok().unwrap();
        last = s["status"].as_str().unwrap().to_string();
        if last == "Finished" || last == "Failed" {
            break;
        }
        assert_eq!(segment_contacts(&c, seg).await, old, "old membership readable throughout");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(last == "Finished" || last == "Failed", "status stuck at {last}");
    assert_eq!(last, "Finished");
    assert_eq!(segment_contacts(&c, seg).await, (N / 4) as i64);
    let detail = c.get(&format!("/v2/segments/{seg}")).await.unwrap().ok().unwrap();
    assert!(detail["lastRefresh"]["attempts"].as_i64().unwrap() >= 2, "{detail}");
    // And a new request is accepted and runs.
    let r = c.post_empty(&format!("/v2/segments/refresh/{seg}")).await.unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(c.wait_refresh(seg, Duration::from_secs(60)).await.unwrap(), "Finished");
    drop(server);
}
