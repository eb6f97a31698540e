//! A `sift serve` child process: what the benchmark and the crash and replica tests
//! start, measure and `kill -9`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sift_client::Client;

/// A running `sift serve`; killed (SIGKILL) when dropped.
pub struct ServeProcess {
    child: Child,
}

impl ServeProcess {
    /// Starts `exe serve --db DB --listen 127.0.0.1:PORT` plus `extra` arguments.
    /// Its standard error is shown only with `show_logs`.
    pub fn start(exe: &Path, db: &str, port: u16, extra: &[&str], show_logs: bool) -> std::io::Result<ServeProcess> {
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(exe)
            .args(["serve", "--db", db, "--listen", &listen])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(if show_logs { Stdio::inherit() } else { Stdio::null() })
            .spawn()?;
        Ok(ServeProcess { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap the process.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process's peak resident memory (Linux `VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until the server behind `client` answers an authenticated request.
pub async fn wait_up(client: &Client, timeout: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while client.get("/v2/account-info").await.map(|r| r.status != 200).unwrap_or(true) {
        if start.elapsed() > timeout {
            anyhow::bail!("the server did not come up within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
