//! sift-client: a small client for sift's v2 API, used by the demo, the benchmark
//! and the API tests. It speaks plain HTTP with Basic auth and returns the status
//! and the JSON body, so tests can check wire shapes exactly.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

/// A response: HTTP status and body (JSON when it parses, else a string value).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// The body, or an error naming the status and the v2 message.
    pub fn ok(self) -> anyhow::Result<Value> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            bail!("HTTP {}: {}", self.status, self.text)
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    user: String,
    password: String,
}

impl Client {
    /// `base` is the server origin, e.g. `http://127.0.0.1:8080`.
    pub fn new(base: &str, user: &str, password: &str) -> Self {
        let http = reqwest::Client::builder().pool_max_idle_per_host(8).build().unwrap_or_default();
        Client { http, base: base.trim_end_matches('/').to_string(), user: user.into(), password: password.into() }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The same server with other credentials.
    pub fn with_credentials(&self, user: &str, password: &str) -> Self {
        Client { http: self.http.clone(), base: self.base.clone(), user: user.into(), password: password.into() }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> anyhow::Result<Resp> {
        let res = rb.basic_auth(&self.user, Some(&self.password)).send().await.context("request failed")?;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()));
        Ok(Resp { status, body, text })
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Resp> {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Resp> {
        self.send(self.http.delete(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Resp> {
        self.send(self.http.post(self.url(path)).json(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Resp> {
        self.send(self.http.put(self.url(path)).json(body)).await
    }

    /// POST with a raw body and content type (for malformed-input tests).
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> anyhow::Result<Resp> {
        self.send(self.http.post(self.url(path)).header("content-type", content_type).body(body)).await
    }

    /// POST without a body.
    pub async fn post_empty(&self, path: &str) -> anyhow::Result<Resp> {
        self.send(self.http.post(self.url(path))).await
    }

    /// Uploads a file as `multipart/form-data` (part `file`).
    pub async fn post_file(&self, path: &str, file_name: &str, bytes: Vec<u8>) -> anyhow::Result<Resp> {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()).mime_str("text/csv")?;
        let form = reqwest::multipart::Form::new().part("file", part);
        self.send(self.http.post(self.url(path)).multipart(form)).await
    }

    /// Submits a CSV import (into a book, or the account with `None`) and waits for
    /// it to end; returns the final status. `progress` is called with each status poll.
    pub async fn import_csv(&self, book: Option<i64>, csv: Vec<u8>, timeout: Duration) -> anyhow::Result<(String, String)> {
        let path = match book {
            Some(b) => format!("/v2/address-books/{b}/contacts/import"),
            None => "/v2/contacts/import".to_string(),
        };
        let r = self.post_file(&path, "contacts.csv", csv).await?.ok()?;
        let id = r["id"].as_str().context("import id")?.to_string();
        let status = self.wait_import(&id, timeout).await?;
        Ok((id, status))
    }

    pub async fn wait_import(&self, id: &str, timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let s = self.get(&format!("/v2/contacts/import/{id}")).await?.ok()?;
            let status = s["status"].as_str().unwrap_or("").to_string();
            if status != "NotFinished" {
                return Ok(status);
            }
            if start.elapsed() > timeout {
                bail!("import {id} still NotFinished after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Creates a segment (extension route); returns its id.
    pub async fn create_segment(&self, name: &str, rule: Value) -> anyhow::Result<i64> {
        let r = self.post("/v2/segments", &serde_json::json!({"name": name, "rule": rule})).await?.ok()?;
        r["id"].as_i64().context("segment id")
    }

    /// Polls `GET /v2/segments/refresh/{id}` until `Finished` or `Failed`.
    pub async fn wait_refresh(&self, id: i64, timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            let s = self.get(&format!("/v2/segments/refresh/{id}")).await?.ok()?;
            let status = s["status"].as_str().unwrap_or("").to_string();
            if status == "Finished" || status == "Failed" {
                return Ok(status);
            }
            if start.elapsed() > timeout {
                bail!("segment {id} refresh still {status} after {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Asks for a refresh and waits for it; returns the final status.
    pub async fn refresh(&self, id: i64, timeout: Duration) -> anyhow::Result<String> {
        self.post_empty(&format!("/v2/segments/refresh/{id}")).await?.ok()?;
        self.wait_refresh(id, timeout).await
    }

    /// Every member id of an address book or segment (pages through).
    pub async fn member_ids(&self, id: i64) -> anyhow::Result<Vec<i64>> {
        let mut out = Vec::new();
        let mut skip = 0;
        loop {
            let page = self.get(&format!("/v2/address-books/{id}/contacts?select=1000&skip={skip}")).await?.ok()?;
            let items = page.as_array().cloned().unwrap_or_default();
            out.extend(items.iter().filter_map(|c| c["id"].as_i64()));
            if items.len() < 1000 {
                return Ok(out);
            }
            skip += 1000;
        }
    }
}
