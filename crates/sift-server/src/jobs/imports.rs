//! The import worker: claims an import, reads its CSV and writes it in chunks. Each
//! chunk (its contacts, the counters, the fault rows and how many rows are done) is
//! one transaction, so a process killed mid-import resumes at the last chunk and
//! counts nothing twice. A broken row becomes a fault row; it never stops the rest.

use std::collections::HashSet;
use std::time::Instant;

use sift_core::model::{email_key, parse_email, ContactStatus, DataField, EmailType, ImportStatus, OptInType};
use sift_core::record::FieldValue;
use sift_store::contacts::ImportRow;
use sift_store::imports::Import;

use crate::app::AppState;

/// Strips a UTF-8 byte-order mark.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The header row of a CSV file.
pub fn read_header(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(without_bom(bytes));
    let h = rdr.headers().map_err(|_| "The file is not a readable CSV file (it must be UTF-8 text)".to_string())?;
    Ok(h.iter().map(|s| s.trim().to_string()).collect())
}

/// The index of the `Email` column (any case).
pub fn email_column(header: &[String]) -> Option<usize> {
    header
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email") || h.eq_ignore_ascii_case("e-mail") || h.eq_ignore_ascii_case("emailaddress"))
}

/// What each column of the file means.
enum Column {
    Email,
    OptInType,
    EmailType,
    Field(DataField),
    Ignored,
}

fn columns(header: &[String], fields: &[DataField]) -> Vec<Column> {
    let email = email_column(header);
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            if Some(i) == email {
                Column::Email
            } else if h.eq_ignore_ascii_case("optintype") {
                Column::OptInType
            } else if h.eq_ignore_ascii_case("emailtype") {
                Column::EmailType
            } else if let Some(f) = fields.iter().find(|f| f.name.eq_ignore_ascii_case(h)) {
                Column::Field(f.clone())
            } else {
                Column::Ignored
            }
        })
        .collect()
}

/// One data row, parsed: a valid import row, or the reason it is a fault.
fn parse_row(cols: &[Column], rec: &csv::StringRecord) -> Result<ImportRow, &'static str> {
    // A ragged row (more or fewer cells than the header) cannot be trusted: its cells
    // may have shifted into the wrong columns.
    if rec.len() != cols.len() {
        return Err("Invalid Entries");
    }
    let mut row = ImportRow { email: String::new(), opt_in: None, email_type: None, data: Vec::new() };
    let mut has_email = false;
    for (i, col) in cols.iter().enumerate() {
        let cell = rec.get(i).unwrap_or("");
        match col {
            Column::Email => {
                row.email = parse_email(cell).ok_or("Invalid Entries")?;
                has_email = true;
            }
            Column::OptInType if !cell.trim().is_empty() => row.opt_in = Some(OptInType::parse(cell).ok_or("Invalid Entries")?),
            Column::EmailType if !cell.trim().is_empty() => row.email_type = Some(EmailType::parse(cell).ok_or("Invalid Entries")?),
            Column::Field(f) => {
                let v = FieldValue::from_text(f.kind, cell).map_err(|_| "Invalid Entries")?;
                if let Some(FieldValue::Str(s)) = &v {
                    if s.len() > sift_core::model::MAX_STRING_VALUE_LEN {
                        return Err("Invalid Entries");
                    }
                }
                // An empty cell leaves the field as it is.
                if v.is_some() {
                    row.data.push((f.id, v));
                }
            }
            _ => {}
        }
    }
    if !has_email {
        return Err("Invalid Entries");
    }
    Ok(row)
}

fn fault_line(reason: &str, rec: Option<&csv::StringRecord>) -> String {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    let mut fields: Vec<&str> = vec![reason];
    if let Some(r) = rec {
        fields.extend(r.iter());
    }
    let _ = w.write_record(&fields);
    // NUL cannot be stored in PostgreSQL text; a fault line is for people to read.
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default().replace('\0', "")
}

fn status_reason(s: ContactStatus) -> (&'static str, fn(&mut sift_store::imports::ImportReport)) {
    match s {
        ContactStatus::HardBounced => ("Hard Bounced", |r| r.hard_bounced += 1),
        ContactStatus::SoftBounced => ("Soft Bounced", |r| r.soft_bounced += 1),
        ContactStatus::IspComplained | ContactStatus::DirectComplaint => ("Isp Complaints", |r| r.isp_complaints += 1),
        ContactStatus::MailBlocked => ("Mail Blocked", |r| r.mail_blocked += 1),
        ContactStatus::DomainSuppression => ("Domain Suppressed", |r| r.domain_suppressed += 1),
        ContactStatus::Unsubscribed => ("Unsubscribed", |r| r.unsubscribed += 1),
        _ => ("Suppressed by you", |r| r.suppressed_contacts += 1),
    }
}

/// One chunk of parsed rows, ready to write in one transaction.
struct Chunk {
    rows: Vec<ImportRow>,
    /// The file's record of each row (for fault lines of suppressed contacts).
    recs: Vec<csv::StringRecord>,
    /// Fault lines of this chunk's broken rows.
    faults: String,
    invalid: i64,
    duplicates: i64,
    /// Rows of the file read up to the end of this chunk.
    rows_end: usize,
    last: bool,
}

/// Reads the file's data rows into chunks of `chunk` rows and sends them. Rows
/// before `resume_at` were written before a restart: they are only read again to
/// rebuild the set of addresses seen. Stops early if the receiver is gone.
fn read_chunks(file: &[u8], cols: &[Column], chunk: usize, resume_at: usize, tx: &tokio::sync::mpsc::Sender<Chunk>) {
    let rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(without_bom(file));
    let empty = || Chunk {
        rows: Vec::with_capacity(chunk),
        recs: Vec::with_capacity(chunk),
        faults: String::new(),
        invalid: 0,
        duplicates: 0,
        rows_end: 0,
        last: false,
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut c = empty();
    let mut row_index = 0usize;
    let mut since_flush = 0usize;
    let mut records = rdr.into_records();
    loop {
        let next = records.next();
        let done = next.is_none();
        if let Some(result) = next {
            let this = row_index;
            row_index += 1;
            let parsed = match &result {
                Ok(rec) => parse_row(cols, rec).and_then(|r| if seen.insert(email_key(&r.email)) { Ok(r) } else { Err("Duplicate") }),
                Err(_) => Err("Invalid Entries"),
            };
            if this < resume_at {
                continue; // already written before a restart; `seen` is rebuilt.
            }
            since_flush += 1;
            match parsed {
                Ok(r) => {
                    c.rows.push(r);
                    c.recs.push(result.unwrap_or_default());
                }
                Err(reason) => {
                    if reason == "Duplicate" {
                        c.duplicates += 1;
                    } else {
                        c.invalid += 1;
                    }
                    c.faults.push_str(&fault_line(reason, result.ok().as_ref()));
                }
            }
        }
        if !done && since_flush < chunk {
            continue;
        }
        since_flush = 0;
        c.rows_end = row_index;
        c.last = done;
        if tx.blocking_send(std::mem::replace(&mut c, empty())).is_err() || done {
            return;
        }
    }
}

/// Runs one claimed import to its end.
pub async fn process(st: &AppState, mut imp: Import, file: Vec<u8>) -> anyhow::Result<()> {
    let owner = st.worker_id.clone();
    let started = Instant::now();
    let fields = st.store.data_fields(imp.account_id).await?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(without_bom(&file));
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(_) => {
            st.store.finish_import(&imp, &owner, ImportStatus::InvalidFileFormat, Some("The file is not a readable CSV file")).await?;
            return Ok(());
        }
    };
    if imp.faults.is_empty() {
        imp.faults = fault_line("Reason", Some(&header));
    }
    let header_names: Vec<String> = header.iter().map(|s| s.trim().to_string()).collect();
    let cols = columns(&header_names, &fields);
    let chunk = st.config.import_chunk.max(1);
    let resume_at = imp.rows_done as usize;
    // The file is read on a blocking thread while this task writes the previous chunk,
    // so parsing overlaps the database's work. At most two chunks wait in between.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    tokio::task::spawn_blocking(move || read_chunks(&file, &cols, chunk, resume_at, &tx));
    let mut pending_report = imp.report;
    loop {
        let Some(mut c) = rx.recv().await else {
            anyhow::bail!("the CSV reader stopped before the end of the file");
        };
        pending_report.invalid_entries += c.invalid;
        pending_report.duplicate_emails += c.duplicates;
        let mut w = st.store.write().await?;
        let result = st.store.import_batch(&mut w.tx, imp.account_id, &fields, &c.rows, imp.book_id, imp.merge).await?;
        pending_report.new_contacts += result.counts.new_contacts;
        pending_report.updated_contacts += result.counts.updated_contacts;
        for (i, status) in &result.suppressed {
            let (reason, count) = status_reason(*status);
            count(&mut pending_report);
            c.faults.push_str(&fault_line(reason, c.recs.get(*i)));
        }
        let mut next = imp.clone();
        next.rows_done = c.rows_end as i64;
        next.report = pending_report;
        next.faults.push_str(&c.faults);
        if !st.store.import_progress(&mut w.tx, &next, &owner, st.lease_ms()).await? {
            tracing::warn!(import = %imp.id, "import lease lost; another worker took it over");
            return Ok(());
        }
        w.commit().await?;
        // Keep the planner's statistics within a factor of two of the table as it
        // grows, so address lookups stay index lookups (PostgreSQL only).
        let written = (imp.report.new_contacts + imp.report.updated_contacts) as u64;
        let now_written = (next.report.new_contacts + next.report.updated_contacts) as u64;
        if written.max(1).ilog2() != now_written.max(1).ilog2() {
            st.store.refresh_statistics().await?;
        }
        imp = next;
        tracing::info!(import = %imp.id, rows = imp.rows_done, new = imp.report.new_contacts, updated = imp.report.updated_contacts,
            faults = imp.report.invalid_entries + imp.report.duplicate_emails, "import progress");
        if c.last {
            break;
        }
    }
    st.store.finish_import(&imp, &owner, ImportStatus::Finished, None).await?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(import = %imp.id, rows = imp.rows_done, seconds = secs, rate = (imp.rows_done as f64 / secs.max(1e-9)) as u64, "import finished");
    Ok(())
}
