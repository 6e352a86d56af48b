//! The per-folder rule lines shared by the text and Markdown renderers.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::Detail;
use crate::plan::{FolderChange, FolderChangeKind, Holder, ProfilePlan};
use crate::quote::{escape, sanitize};

/// One line per changed rule, sorted by hostname, at most `cap` of them and then "... and N more":
/// `+` added, `-` removed, `~` action changed or moved here from another folder. The `-` and `+`
/// lines are the difference of the sorted `host action` lines before and after; a rule whose
/// action changes shows as one `~ host old -> new` line. Only the lines shown get their final text
/// (the rest are selected out unsorted).
pub(super) fn rule_lines(folder: &FolderChange, cap: usize) -> Vec<String> {
    let mut lines = line_entries(folder);
    let total = lines.len();
    if total > cap {
        lines.select_nth_unstable_by(cap, Line::order);
        lines.truncate(cap);
    }
    lines.sort_unstable_by(Line::order);
    let mut shown: Vec<String> = lines.iter().map(Line::text).collect();
    if total > cap {
        shown.push(more_line(total - cap));
    }
    shown
}

/// A rule line before formatting: its tag (`+`, `-`, `~`) and the text after it, which starts with
/// the hostname the line sorts by.
struct Line {
    tag: u8,
    body: String,
    host_len: usize,
}

impl Line {
    fn new(tag: u8, body: String) -> Self {
        let host_len = body.find(' ').unwrap_or(body.len());
        Self {
            tag,
            body,
            host_len,
        }
    }

    /// By hostname, then by the whole line (`{tag} {body}`).
    fn order(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }

    fn key(&self) -> (&str, u8, &str) {
        (&self.body[..self.host_len], self.tag, &self.body)
    }

    /// The hostname and actions may come from Control D (a rule to remove): escaped.
    fn text(&self) -> String {
        format!("{} {}", char::from(self.tag), escape(&self.body))
    }
}

/// Every rule line of the folder, unsorted.
fn line_entries(folder: &FolderChange) -> Vec<Line> {
    let mut before: Vec<String> = Vec::with_capacity(folder.remove.len() + folder.change.len());
    let mut after: Vec<String> = Vec::with_capacity(folder.add.len() + folder.change.len());
    for (hostname, action) in &folder.remove {
        before.push(format!("{hostname} {action}"));
    }
    for (hostname, change) in &folder.change {
        before.push(format!("{hostname} {}", change.from));
        after.push(format!("{hostname} {}", change.to));
    }
    for (hostname, action) in &folder.add {
        after.push(format!("{hostname} {action}"));
    }
    before.sort_unstable();
    after.sort_unstable();
    let mut lines = Vec::with_capacity(before.len() + after.len() + folder.move_in.len());
    let mut changed = Vec::new();
    for line in sorted_difference(before, after) {
        match folder.change.get_key_value(&line.body[..line.host_len]) {
            Some(entry) => changed.push(entry),
            None => lines.push(line),
        }
    }
    changed.sort_unstable_by_key(|&(hostname, _)| hostname);
    changed.dedup_by_key(|&mut (hostname, _)| hostname);
    for (hostname, change) in changed {
        let body = format!("{hostname} {} -> {}", change.from, change.to);
        lines.push(Line::new(b'~', body));
    }
    for (hostname, moved) in &folder.move_in {
        let body = format!(
            "{hostname} {} (moved from `{}`)",
            moved.action, moved.from_key
        );
        lines.push(Line {
            tag: b'~',
            body,
            host_len: hostname.len(),
        });
    }
    lines
}

/// `-` for each line only before, `+` for each line only after (both sorted): the changes a line
/// diff of the two reports.
fn sorted_difference(before: Vec<String>, after: Vec<String>) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut before = before.into_iter().peekable();
    let mut after = after.into_iter().peekable();
    loop {
        let order = match (before.peek(), after.peek()) {
            (Some(old), Some(new)) => old.cmp(new),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => return lines,
        };
        match order {
            Ordering::Less => lines.extend(before.next().map(|old| Line::new(b'-', old))),
            Ordering::Greater => lines.extend(after.next().map(|new| Line::new(b'+', new))),
            Ordering::Equal => {
                before.next();
                after.next();
            }
        }
    }
}

/// At most `cap` lines, then "... and N more".
pub(super) fn capped(lines: Vec<String>, cap: usize) -> Vec<String> {
    if lines.len() <= cap {
        return lines;
    }
    let more = lines.len() - cap;
    let mut kept: Vec<String> = lines.into_iter().take(cap).collect();
    kept.push(more_line(more));
    kept
}

fn more_line(more: usize) -> String {
    format!("... and {} more", super::thousands(more as u64))
}

/// `+ folder `ads` "Ads" (block): create`, and the like. Names and actions may come from Control D
/// or a list source: escaped.
pub(super) fn folder_heading(folder: &FolderChange) -> String {
    let pk = folder.pk.map(|pk| format!(", PK {pk}")).unwrap_or_default();
    let label = format!(
        "folder `{}` \"{}\" ({}{pk})",
        folder.key,
        sanitize(&folder.name),
        escape(&folder.action.to_string())
    );
    match &folder.kind {
        FolderChangeKind::Create => format!("+ {label}: create"),
        FolderChangeKind::Delete => match folder.remove.len() {
            0 => format!("- {label}: delete (empty once its rules moved out)"),
            1 => format!("- {label}: delete, with the 1 rule still in it"),
            n => format!(
                "- {label}: delete, with the {} rules still in it",
                super::thousands(n as u64)
            ),
        },
        FolderChangeKind::Update {
            from_name,
            from_action,
        } => format!(
            "~ {label}: update from \"{}\" ({})",
            sanitize(from_name),
            escape(&from_action.to_string())
        ),
        FolderChangeKind::Keep if folder.adopted => format!("~ {label}: adopt the existing folder"),
        FolderChangeKind::Keep => format!("~ {label}"),
    }
}

/// Counts after the heading: "+3 ~1 -2, 40 unchanged".
pub(super) fn folder_counts(folder: &FolderChange) -> String {
    format!(
        "{} to add, {} to move here, {} to change, {} to remove, {} unchanged",
        super::thousands(folder.add.len() as u64),
        super::thousands(folder.move_in.len() as u64),
        super::thousands(folder.change.len() as u64),
        super::thousands(folder.remove.len() as u64),
        super::thousands(folder.unchanged as u64),
    )
}

/// The notes of a profile: destructive changes, overlaps (per pair of folders; per hostname too
/// with [`Detail::Hostnames`]; none for a profile with nothing to change unless asked), folders
/// adopted among duplicates, what the rules of a folder found renamed said, and hostnames skipped
/// because an unmanaged rule holds them.
pub(super) fn notes(profile: &ProfilePlan, detail: Detail) -> Vec<String> {
    let mut notes: Vec<String> = profile
        .destructive
        .iter()
        .map(|offense| format!("destructive, apply needs --allow-destroy: {offense}"))
        .collect();
    notes.extend(profile.notes.iter().map(|note| format!("note: {note}")));
    // Before the overlaps, which a long plan cuts: which folder is whose matters more.
    notes.extend(profile.identities.iter().map(ToString::to_string));
    if profile.has_changes() || detail == Detail::Hostnames {
        notes.extend(overlap_summary(profile));
    }
    if detail == Detail::Hostnames {
        for overlap in &profile.overlaps {
            notes.push(format!(
                "overlap: {} is kept by `{}`, dropped from `{}`",
                overlap.hostname, overlap.kept_by, overlap.dropped_from
            ));
        }
    }
    for duplicate in &profile.duplicates {
        let others: Vec<String> = duplicate
            .left_alone
            .iter()
            .map(|pk| format!("PK {pk}"))
            .collect();
        notes.push(format!(
            "duplicates: {} folders are named \"{}\"; `{}` adopted PK {} (most matching rules), \
             left alone: {}",
            others.len() + 1,
            sanitize(&duplicate.name),
            duplicate.key,
            duplicate.adopted,
            others.join(", ")
        ));
    }
    for skip in &profile.unmanaged_skipped {
        let holder = match &skip.held_by {
            Holder::Root => "a rule in the root".to_string(),
            other => other.to_string(),
        };
        notes.push(format!(
            "skipped: {} (listed by `{}`) is held by {holder}; left alone",
            skip.hostname, skip.key
        ));
    }
    notes
}

/// One line per pair of folders: "overlap: 150 hostnames of `b` are kept by `a`", in the order of
/// the folder that loses them, then of the one that keeps them (the profile's folder order).
pub(super) fn overlap_summary(profile: &ProfilePlan) -> Vec<String> {
    let position = |key: &str| {
        profile
            .folders
            .iter()
            .position(|folder| folder.key == key)
            .unwrap_or(usize::MAX)
    };
    let mut pairs: BTreeMap<(usize, &str, usize, &str), usize> = BTreeMap::new();
    for overlap in &profile.overlaps {
        let dropped = overlap.dropped_from.as_str();
        let kept = overlap.kept_by.as_str();
        *pairs
            .entry((position(dropped), dropped, position(kept), kept))
            .or_default() += 1;
    }
    pairs
        .into_iter()
        .map(|((_, dropped, _, kept), count)| {
            let (noun, verb) = match count {
                1 => ("hostname", "is"),
                _ => ("hostnames", "are"),
            };
            format!(
                "overlap: {} {noun} of `{dropped}` {verb} kept by `{kept}`",
                super::thousands(count as u64)
            )
        })
        .collect()
}
