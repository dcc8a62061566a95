//! Shared bits of output: formats, durations, colour only on a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, Color, ContentArrangement, Table};
use kube::ResourceExt;
use serde::Serialize;

use kubectl_mysql::api::{BackupPhase, MySQLBackup};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// "90", "90s", "5m", "1h" -> Duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: use e.g. 90s, 5m or 1h"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        _ => return Err(format!("invalid duration {text:?}: use e.g. 90s, 5m or 1h")),
    };
    Ok(Duration::from_secs(seconds))
}

pub fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A table cell, coloured (green good, red bad, yellow unknown) when stdout is a
/// terminal. The table applies the colour after measuring the text, so borders and
/// columns line up, which colour codes inside the text would break.
pub fn painted(text: &str, good: Option<bool>) -> Cell {
    let cell = Cell::new(text);
    if !colour_enabled() {
        return cell;
    }
    cell.fg(match good {
        Some(true) => Color::Green,
        Some(false) => Color::Red,
        None => Color::Yellow,
    })
}

/// A table that fits the terminal (`$COLUMNS`, else the terminal's width): boxed for
/// a detail view's sections, plain columns like `kubectl get` for a list.
pub fn new_table(style: TableStyle) -> Table {
    let mut table = Table::new();
    table.load_preset(match style {
        TableStyle::Boxed => UTF8_FULL_CONDENSED,
        TableStyle::Plain => NOTHING,
    });
    if let Some(width) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        table.set_width(width);
    }
    // A list keeps one line per row, like `kubectl get`; a detail view wraps its long
    // messages to the terminal, when the terminal says how wide it is.
    let known_width = table.width().is_some_and(|w| w >= 40);
    if style == TableStyle::Boxed && known_width {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    if colour_enabled() {
        table.enforce_styling();
    }
    table
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableStyle {
    Boxed,
    Plain,
}

/// Prints `table`, or `TITLE: none` for a section with no rows.
pub fn print_section(title: &str, table: &Table) {
    if table.row_count() == 0 {
        println!("{title}: none");
    } else {
        println!("{table}");
    }
}

/// Wraps `text` in an ANSI colour when stdout is a terminal (for text outside tables).
pub fn paint(text: &str, good: Option<bool>) -> String {
    if !colour_enabled() {
        return text.to_string();
    }
    match good {
        Some(true) => format!("\x1b[32m{text}\x1b[0m"),
        Some(false) => format!("\x1b[31m{text}\x1b[0m"),
        None => format!("\x1b[33m{text}\x1b[0m"),
    }
}

pub fn print_serialized(value: &impl serde::Serialize, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml => print!("{}", serde_saphyr::to_string(value)?),
        Format::Table => unreachable!("tables are printed by each command"),
    }
    Ok(())
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    pub name: String,
    pub cause: String,
    pub phase: String,
    pub completion_time: Option<String>,
    pub size_bytes: Option<i64>,
    /// `s3://BUCKET/KEY`, or the dump's path on the backup volume.
    pub location: Option<String>,
    pub sha256: Option<String>,
    /// `Passed: 3 tables, 1500 rows`, or why the dump did not load.
    pub verified: Option<String>,
}

pub fn backup_report(b: &MySQLBackup) -> BackupReport {
    let status = b.status.clone().unwrap_or_default();
    BackupReport {
        name: b.name_any(),
        cause: format!("{:?}", b.spec.cause),
        phase: status
            .phase
            .map(|p| p.to_string())
            .unwrap_or_else(|| BackupPhase::Pending.to_string()),
        location: b.location(),
        completion_time: status.completion_time,
        size_bytes: status.size_bytes,
        sha256: status.sha256,
        verified: status
            .verification
            .map(|v| format!("{}: {}", v.result, v.summary())),
    }
}

/// The backups of one instance as a table (status and `backup --list` alike).
pub fn backup_table(reports: &[BackupReport], style: TableStyle) -> Table {
    let mut table = new_table(style);
    table.set_header([
        "BACKUP",
        "CAUSE",
        "PHASE",
        "COMPLETED",
        "SIZE",
        "SHA256",
        "LOCATION",
        "VERIFIED",
    ]);
    for b in reports {
        table.add_row([
            b.name.clone(),
            b.cause.clone(),
            b.phase.clone(),
            b.completion_time.clone().unwrap_or_else(|| "-".into()),
            b.size_bytes
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            // A prefix is enough to compare by eye; -o json has it whole.
            b.sha256
                .as_deref()
                .map(|s| s.chars().take(12).collect())
                .unwrap_or_else(|| "-".into()),
            b.location.clone().unwrap_or_else(|| "-".into()),
            b.verified.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    table
}

/// The rows per table a verification counted.
pub fn verification_table(verification: &kubectl_mysql::api::Verification) -> Table {
    let mut table = new_table(TableStyle::Plain);
    table.set_header(["TABLE", "ROWS"]);
    for t in &verification.tables {
        table.add_row([t.name.clone(), t.rows.to_string()]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
    }
}

/// Point-in-time recovery's window, as `status` and `backup --list` show it.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RecoverableWindow {
    pub from: String,
    pub until: String,
}

impl RecoverableWindow {
    pub fn of(status: &kubectl_mysql::api::MySQLStatus) -> Option<Self> {
        Some(Self {
            from: status.recoverable_from.clone()?,
            until: status.recoverable_until.clone()?,
        })
    }
}

impl std::fmt::Display for RecoverableWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "any second from {} to {}", self.from, self.until)
    }
}
