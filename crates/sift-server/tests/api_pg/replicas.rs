//! Several `sift serve` replicas on one PostgreSQL database, and the change
//! sequence under concurrent writers.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use sift_client::Client;
use sift_server::process::{self, ServeProcess};

fn start_sift(db: &str, port: u16, lease_secs: f64) -> ServeProcess {
    ServeProcess::start(Path::new(env!("CARGO_BIN_EXE_sift")), db, port, &["--lease-secs", &lease_secs.to_string()], false)
        .expect("start sift")
}

fn free_port() -> u16 {
    process::free_port().unwrap()
}

/// A fresh database next to the test database; returns its URL.
async fn fresh_database(tag: &str) -> String {
    sqlx::any::install_default_drivers();
    let url = crate::helpers::pg_url();
    let admin = match sqlx::AnyPool::connect(&url).await {
        Ok(p) => p,
        Err(e) => {
            println!("PostgreSQL tests skipped: cannot use {url}: {e}");
            std::process::exit(0);
        }
    };
    let name = format!("sift_{tag}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.unwrap();
    admin.close().await;
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

async fn wait_up(c: &Client) {
    process::wait_up(c, Duration::from_secs(60)).await.expect("replica up");
}

fn in_flight(history: &serde_json::Value) -> usize {
    history.as_array().unwrap().iter().filter(|h| h["status"] == "NotStarted" || h["status"] == "NotFinished").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_jobs_statuses_and_take_over_a_dead_replicas_refresh() {
    let db = fresh_database("replicas").await;
    // Migrations are safe when replicas start together.
    let lease = 2.0;
    let ports = [free_port(), free_port(), free_port()];
    let mut replicas: Vec<ServeProcess> = ports.iter().map(|p| start_sift(&db, *p, lease)).collect();
    let store = loop {
        // The account is created through the store once the schema exists.
        match sift_store::Store::open(&db).await {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    let (_, user, password) = sift_server::create_account(&store, "replicas").await.unwrap();
    let clients: Vec<Client> = ports.iter().map(|p| Client::new(&format!("http://127.0.0.1:{p}"), &user, &password)).collect();
    for c in &clients {
        wait_up(c).await;
    }
    let (a, b, c) = (&clients[0], &clients[1], &clients[2]);

    // Writes through A.
    a.post("/v2/data-fields", &json!({"name": "CITY", "type": "String"})).await.unwrap().ok().unwrap();
    let mut csv = String::from("Email,CITY\n");
    for i in 0..200_000 {
        csv.push_str(&format!("c{i}@x.com,{}\n", ["Leeds", "York"][i % 2]));
    }
    let (_, status) = a.import_csv(None, csv.into_bytes(), Duration::from_secs(300)).await.unwrap();
    assert_eq!(status, "Finished");
    // Segment saved through A, refresh asked on B, polled on C (and on all three).
    let seg = a.create_segment("leeds", json!({"field": "dataFields.CITY", "op": "equals", "value": "leeds"})).await.unwrap();
    let first = c.wait_refresh(seg, Duration::from_secs(120)).await.unwrap();
    assert_eq!(first, "Finished", "{}", c.get(&format!("/v2/segments/{seg}")).await.unwrap().text);
    let r = b.post_empty(&format!("/v2/segments/refresh/{seg}")).await.unwrap();
    assert_eq!(r.status, 202);
    let s_b = b.get(&format!("/v2/segments/refresh/{seg}")).await.unwrap().body;
    let s_c = c.get(&format!("/v2/segments/refresh/{seg}")).await.unwrap().body;
    // Read on C just after B, the status is the same or further along, never behind.
    let rank = |v: &serde_json::Value| match v["status"].as_str() {
        Some("NotStarted") => 0,
        Some("NotFinished") => 1,
        Some("Finished") | Some("Failed") => 2,
        other => panic!("unexpected status {other:?}"),
    };
    assert!(rank(&s_c) >= rank(&s_b), "{s_b} vs {s_c}");
    assert_eq!(c.wait_refresh(seg, Duration::from_secs(60)).await.unwrap(), "Finished");
    for cl in &clients {
        assert_eq!(cl.get(&format!("/v2/segments/refresh/{seg}")).await.unwrap().body, json!({"id": seg, "status": "Finished"}));
        let list = cl.get("/v2/segments").await.unwrap().body;
        assert_eq!(list[0]["contacts"], 100_000);
    }

    // 50 refresh requests spread over the three replicas: never two jobs at once.
    let before = a.get(&format!("/v2/segments/{seg}/refreshes?select=1000")).await.unwrap().body.as_array().unwrap().len();
    let mut handles = Vec::new();
    for i in 0..50 {
        let cl = clients[i % 3].clone();
        handles.push(tokio::spawn(async move { cl.post_empty(&format!("/v2/segments/refresh/{seg}")).await.unwrap().status }));
    }
    let mut max_in_flight = 0;
    for h in handles {
        assert_eq!(h.await.unwrap(), 202);
        let history = a.get(&format!("/v2/segments/{seg}/refreshes?select=1000")).await.unwrap().body;
        max_in_flight = max_in_flight.max(in_flight(&history));
    }
    assert!(max_in_flight <= 1, "at most one refresh waiting or running, saw {max_in_flight}");
    assert_eq!(a.wait_refresh(seg, Duration::from_secs(60)).await.unwrap(), "Finished");
    let history = a.get(&format!("/v2/segments/{seg}/refreshes?select=1000")).await.unwrap().body;
    let jobs = history.as_array().unwrap().len() - before;
    assert!((1..=50).contains(&jobs), "{jobs} jobs for 50 requests");
    assert!(history.as_array().unwrap().iter().all(|h| h["status"] == "Finished"));

    // Kill -9 whichever replica runs the next refresh, mid-refresh; another one
    // finishes it within the lease. Restarting every replica first makes their
    // indexes cold, so the refresh takes long enough to be caught running.
    for (i, r) in replicas.iter_mut().enumerate() {
        r.kill9();
        *r = start_sift(&db, ports[i], lease);
    }
    for cl in &clients {
        wait_up(cl).await;
    }
    a.put(&format!("/v2/segments/{seg}"), &json!({"rule": {"field": "dataFields.CITY", "op": "equals", "value": "york"}}))
        .await
        .unwrap()
        .ok()
        .unwrap();
    let start = Instant::now();
    let mut owner = None;
    while start.elapsed() < Duration::from_secs(60) && owner.is_none() {
        let running: Vec<(i32, i64)> = sqlx_owner(&db, seg).await;
        if let Some((pid, _)) = running.first() {
            owner = Some(*pid);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let owner = owner.expect("the refresh was caught running");
    let victim = replicas.iter().position(|r| r.pid() as i32 == owner).expect("owner is one of the replicas");
    replicas[victim].kill9();
    let killed = Instant::now();
    let survivor = &clients[(victim + 1) % 3];
    let status = survivor.wait_refresh(seg, Duration::from_secs(60)).await.unwrap();
    assert_eq!(status, "Finished");
    assert!(killed.elapsed() < Duration::from_secs_f64(lease + 30.0));
    let list = survivor.get("/v2/segments").await.unwrap().body;
    assert_eq!(list[0]["contacts"], 100_000);
    let detail = survivor.get(&format!("/v2/segments/{seg}")).await.unwrap().body;
    assert!(detail["lastRefresh"]["attempts"].as_i64().unwrap() >= 2, "{detail}");
    let members: HashSet<i64> = survivor.member_ids(seg).await.unwrap().into_iter().collect();
    assert_eq!(members.len(), 100_000);
    drop(replicas);
    store.close().await;
    drop_database(&db).await;
}

/// Drops a database made by [`fresh_database`].
async fn drop_database(db: &str) {
    let (_, name) = db.rsplit_once('/').unwrap();
    if let Ok(admin) = sqlx::AnyPool::connect(&crate::helpers::pg_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&admin).await;
        admin.close().await;
    }
}

/// (process id of the lease owner, refresh id) of running refreshes of a segment.
async fn sqlx_owner(db: &str, seg: i64) -> Vec<(i32, i64)> {
    let pool = sqlx::AnyPool::connect(db).await.unwrap();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT lease_owner, id FROM refreshes WHERE segment_id = $1 AND status = 1 AND lease_owner IS NOT NULL")
            .bind(seg)
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    pool.close().await;
    rows.into_iter().filter_map(|(o, id)| o.split('-').next().and_then(|p| p.parse().ok()).map(|p| (p, id))).collect()
}

/// Two concurrent writers of one account: the one that drew the lower sequence
/// number tries to commit last. Numbers are drawn under the account row's lock,
/// so the second writer cannot even draw its number until the first commits:
/// numbers become visible in order and the engine's catch-up misses neither change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_with_a_lower_sequence_number_cannot_commit_after_a_higher_one() {
    let (_dir, _url, _schema, store) = crate::helpers::fresh_db().await;
    let (account, _, _) = sift_server::create_account(&store, "seq").await.unwrap();
    let fields = store.data_fields(account).await.unwrap();
    let write = |email: &str| sift_store::contacts::ImportRow { email: email.into(), opt_in: None, email_type: None, data: vec![] };
    let mut engine = sift_engine::AccountIndex::new(chrono_tz::UTC);
    let initial = store.changes_since(account, 0).await.unwrap();
    engine.apply(&initial.fields, initial.changes, initial.up_to_seq);

    // Writer 1 draws its number first and holds its transaction open.
    let mut w1 = store.write().await.unwrap();
    store
        .import_batch(&mut w1.tx, account, &fields, &[write("first@x.com")], None, sift_core::model::MergeOption::Overwrite)
        .await
        .unwrap();
    // Writer 2 starts now and wants to commit before writer 1.
    let store2 = store.clone();
    let fields2 = fields.clone();
    let w2 = tokio::spawn(async move {
        let mut w2 = store2.write().await.unwrap();
        store2
            .import_batch(&mut w2.tx, account, &fields2, &[write("second@x.com")], None, sift_core::model::MergeOption::Overwrite)
            .await
            .unwrap();
        w2.commit().await.unwrap();
        Instant::now()
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!w2.is_finished(), "writer 2 must wait for writer 1's sequence number to commit");
    // The engine catching up now sees neither change, and skips nothing.
    let mid = store.changes_since(account, engine.applied_seq()).await.unwrap();
    assert!(mid.changes.is_empty());
    engine.apply(&mid.fields, mid.changes, mid.up_to_seq);
    let w1_committed = Instant::now();
    w1.commit().await.unwrap();
    let w2_committed = w2.await.unwrap();
    assert!(w2_committed >= w1_committed);
    let after = store.changes_since(account, engine.applied_seq()).await.unwrap();
    let seqs: Vec<i64> = after.changes.iter().map(|c| c.seq).collect();
    assert_eq!(after.changes.len(), 2, "both changes are seen: {seqs:?}");
    assert!(seqs[0] < seqs[1]);
    engine.apply(&after.fields, after.changes, after.up_to_seq);
    assert_eq!(engine.len(), 2);
}
