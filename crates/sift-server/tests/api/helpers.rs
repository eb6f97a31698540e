use std::time::Duration;

use serde_json::{json, Value};
use sift_client::Client;
use sift_server::app::{AppState, Config};
use sift_store::Store;
use tokio::sync::oneshot;

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestApp {
    pub client: Client,
    pub base: String,
    pub store: Store,
    pub account_id: i64,
    user: String,
    password: String,
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
}

/// Which database the suite runs on: the test binary decides (`api` runs on SQLite,
/// `api_pg` runs the same modules on PostgreSQL).
pub fn backend() -> &'static str {
    crate::BACKEND
}

pub fn pg_url() -> String {
    std::env::var("SIFT_TEST_PG_URL").unwrap_or_else(|_| PG_DEFAULT.to_string())
}

pub fn test_config() -> Config {
    Config { lease: Duration::from_secs(3), poll_interval: Duration::from_millis(50), import_chunk: 1000, ..Config::default() }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_config()).await
}

/// A fresh database (SQLite file in a temp dir, or a PostgreSQL schema).
pub async fn fresh_db() -> (tempfile::TempDir, String, Option<String>, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    if backend() == "postgres" {
        let schema = format!("t_{}", uuid_like());
        let url = pg_url();
        drop_old_schemas(&url).await;
        let store = match Store::open_with(&url, Some(&schema)).await {
            Ok(s) => s,
            Err(e) => {
                // No PostgreSQL here: say so and end this test binary successfully.
                eprintln!("PostgreSQL tests skipped: cannot use {url}: {e}");
                println!("PostgreSQL tests skipped: cannot use {url}: {e}");
                std::process::exit(0);
            }
        };
        (dir, url, Some(schema), store)
    } else {
        let path = dir.path().join("sift.db");
        let url = path.to_string_lossy().to_string();
        let store = Store::open(&url).await.expect("open sqlite store");
        (dir, url, None, store)
    }
}

/// Once per test process: drops the schemas earlier runs of this suite left behind
/// (each test's schema is named `t_<pid>_…`).
async fn drop_old_schemas(url: &str) {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        sqlx::any::install_default_drivers();
        let Ok(pool) = sqlx::AnyPool::connect(url).await else { return };
        let mine = format!("t_{}_%", std::process::id());
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%' AND nspname NOT LIKE $1")
                .bind(mine)
                .fetch_all(&pool)
                .await
                .unwrap_or_default();
        for (name,) in rows {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).execute(&pool).await;
        }
        pool.close().await;
    })
    .await;
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), t % 1_000_000_000_000, N.fetch_add(1, Ordering::Relaxed))
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    spawn_app_on(fresh_db().await, config).await
}

/// Starts a server on an existing database (as `fresh_db` returns it), as a restarted
/// process would, and creates a new account on it.
pub async fn spawn_app_on(db: (tempfile::TempDir, String, Option<String>, Store), config: Config) -> TestApp {
    let (dir, _url, _schema, store) = db;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = AppState::new(store.clone(), config);
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = sift_server::run(listener, state, async {
            let _ = rx.await;
        })
        .await;
    });
    let base = format!("http://{addr}");
    let (account_id, user, password) = sift_server::create_account(&store, "Test account").await.expect("account");
    TestApp { client: Client::new(&base, &user, &password), user, password, base, store, account_id, _dir: dir, shutdown: Some(tx) }
}

impl TestApp {
    /// A client for a second, separate account on the same server.
    pub async fn other_account(&self) -> Client {
        let (_, user, password) = sift_server::create_account(&self.store, "Other account").await.expect("account");
        self.client.with_credentials(&user, &password)
    }

    /// The API user's name and password (for hand-built requests).
    pub fn credentials(&self) -> (&str, &str) {
        (&self.user, &self.password)
    }

    /// The account's change sequence now.
    pub async fn seq(&self) -> i64 {
        self.store.account(self.account_id).await.expect("account").change_seq
    }

    /// Creates data fields: (name, type).
    pub async fn fields(&self, fields: &[(&str, &str)]) {
        for (name, kind) in fields {
            let r = self.client.post("/v2/data-fields", &json!({"name": name, "type": kind})).await.unwrap();
            assert_eq!(r.status, 201, "create field {name}: {}", r.text);
        }
    }

    /// Creates a contact with data fields; returns its id.
    pub async fn contact(&self, email: &str, data: Value) -> i64 {
        let data_fields: Vec<Value> =
            data.as_object().map(|m| m.iter().map(|(k, v)| json!({"key": k, "value": v})).collect()).unwrap_or_default();
        let r = self.client.post("/v2/contacts", &json!({"email": email, "dataFields": data_fields})).await.unwrap();
        assert_eq!(r.status, 201, "create contact {email}: {}", r.text);
        r.body["id"].as_i64().unwrap()
    }

    pub async fn book(&self, name: &str) -> i64 {
        let r = self.client.post("/v2/address-books", &json!({"name": name})).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        r.body["id"].as_i64().unwrap()
    }

    /// Creates a segment and waits for its first refresh.
    pub async fn segment(&self, name: &str, rule: Value) -> i64 {
        let id = self.client.create_segment(name, rule).await.expect("create segment");
        let status = self.client.wait_refresh(id, Duration::from_secs(30)).await.expect("refresh");
        assert_eq!(status, "Finished");
        id
    }

    /// Refreshes a segment and returns its sorted member e-mails.
    pub async fn members(&self, segment: i64) -> Vec<String> {
        let mut out = Vec::new();
        let page = self.client.get(&format!("/v2/address-books/{segment}/contacts")).await.unwrap();
        assert_eq!(page.status, 200, "{}", page.text);
        for c in page.body.as_array().unwrap() {
            out.push(c["email"].as_str().unwrap().to_string());
        }
        out.sort();
        out
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts an error response: status and exact v2 message.
#[track_caller]
pub fn assert_error(r: &sift_client::Resp, status: u16, message_end: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    let obj = r.body.as_object().unwrap_or_else(|| panic!("error body is not a JSON object: {}", r.text));
    assert_eq!(obj.len(), 1, "error body has exactly one key: {}", r.text);
    let msg = obj["message"].as_str().unwrap();
    assert!(msg.ends_with(message_end), "message '{msg}' should end with '{message_end}'");
}
