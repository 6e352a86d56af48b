//! `ctrld-sync validate`: the config and its local lists, offline (no API call, no token, no
//! download). URL sources are listed, not fetched; `--fetch` downloads and parses them too.

use std::fmt::Write as _;

use super::progress::Bars;
use super::Context;
use crate::cli::ValidateArgs;
use crate::config::{Config, FolderConfig, SourceLocation};
use crate::error::{Error, Result};
use crate::exit::ExitStatus;
use crate::source::{self, FetchReport, FolderReport, SourceCache};

pub(super) async fn run(context: &Context, args: ValidateArgs) -> Result<ExitStatus> {
    let printer = &context.printer;
    let config = match Config::load(&context.config_path) {
        Ok(config) => config,
        Err(err) => return Ok(fail(context, err.lines())),
    };
    warn_if_nothing_to_manage(context, &config);
    let (read, not_fetched): (Vec<&FolderConfig>, Vec<&FolderConfig>) = config
        .folders
        .iter()
        .partition(|folder| args.fetch || !is_url(folder));
    let keys: Vec<&str> = read.iter().map(|f| f.key.as_str()).collect();
    let bars = Bars::new(printer);
    let loaded =
        match source::load_folders(&config, &keys, &SourceCache::default(), printer, &bars).await {
            Ok(loaded) => loaded,
            Err(err) => return Ok(fail(context, err.lines())),
        };
    let text = render(&config, &loaded.report, &not_fetched);
    printer
        .stdout(&text)
        .map_err(|err| Error::io("<stdout>", err))?;
    Ok(ExitStatus::Success)
}

fn is_url(folder: &FolderConfig) -> bool {
    matches!(folder.location, SourceLocation::Url(_))
}

/// `plan` and `apply` refuse a config without `[[profile]]`; `validate` checks its folders anyway.
fn warn_if_nothing_to_manage(context: &Context, config: &Config) {
    if config.profiles.is_empty() {
        context.printer.warn(format!(
            "no [[profile]] in {}: nothing to manage (`plan` and `apply` will refuse it)",
            config.path.display()
        ));
    }
}

/// One `error:` line per problem.
fn fail(context: &Context, lines: Vec<String>) -> ExitStatus {
    for line in lines {
        context.printer.error(line);
    }
    ExitStatus::Error
}

fn render(config: &Config, report: &FetchReport, not_fetched: &[&FolderConfig]) -> String {
    let mut out = String::new();
    for folder in &report.folders {
        render_folder(&mut out, folder);
    }
    let unfetched_sources = render_not_fetched(&mut out, not_fetched);
    let rules: usize = report
        .folders
        .iter()
        .flat_map(|folder| folder.rules_by_action.values())
        .sum();
    let unused: Vec<&str> = config
        .folders
        .iter()
        .filter(|folder| {
            !config
                .profiles
                .iter()
                .any(|p| p.folders.contains(&folder.key))
        })
        .map(|folder| folder.key.as_str())
        .collect();
    if !unused.is_empty() {
        let _ = writeln!(out, "not used by any profile: {}", unused.join(", "));
    }
    let _ = write!(
        out,
        "{}: ok, {} profiles, {} folders, {} rules, {} bytes downloaded",
        config.path.display(),
        config.profiles.len(),
        report.folders.len() + not_fetched.len(),
        rules,
        report.bytes_downloaded
    );
    match unfetched_sources {
        0 => out.push('\n'),
        n => {
            let _ = writeln!(out, ", {n} URL sources not fetched");
        }
    }
    out
}

/// One line per URL source left unread (redacted, as every URL shown), with the folders it feeds.
/// Returns how many sources were listed.
fn render_not_fetched(out: &mut String, folders: &[&FolderConfig]) -> usize {
    let mut sources: Vec<(String, Vec<&str>)> = Vec::new();
    for folder in folders {
        let location = folder.location.shown();
        match sources.iter_mut().find(|(shown, _)| *shown == location) {
            Some((_, keys)) => keys.push(&folder.key),
            None => sources.push((location, vec![&folder.key])),
        }
    }
    if !sources.is_empty() {
        out.push_str("not fetched (offline; `validate --fetch` downloads and checks them):\n");
    }
    for (location, keys) in &sources {
        let noun = if keys.len() == 1 { "folder" } else { "folders" };
        let _ = writeln!(out, "  {location} ({noun} {})", keys.join(", "));
    }
    sources.len()
}

fn render_folder(out: &mut String, folder: &FolderReport) {
    let by_action: Vec<String> = folder
        .rules_by_action
        .iter()
        .map(|(action, count)| format!("{action} {count}"))
        .collect();
    let _ = writeln!(out, "folder {}", folder.key);
    let _ = writeln!(out, "  source:  {}", folder.location);
    let _ = writeln!(out, "  format:  {}", folder.format);
    let _ = writeln!(out, "  rules:   {}", by_action.join(", "));
    if folder.skipped > 0 {
        let _ = writeln!(out, "  skipped: {} invalid entries", folder.skipped);
        for example in &folder.skipped_examples {
            let _ = writeln!(out, "    {example}");
        }
    }
    if folder.unsupported > 0 {
        let _ = writeln!(
            out,
            "  unsupported: {} entries not applied",
            folder.unsupported
        );
        for example in &folder.unsupported_examples {
            let _ = writeln!(out, "    {example}");
        }
    }
}
