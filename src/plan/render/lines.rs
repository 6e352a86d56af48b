//! The per-folder rule lines shared by the text and Markdown renderers.

use similar::{capture_diff_slices, Algorithm, DiffTag};

use crate::plan::{FolderChange, FolderChangeKind, Holder, ProfilePlan};

/// One line per changed rule, sorted by hostname: `+` added, `-` removed, `~` action changed or
/// moved here from another folder. Computed as a line diff of sorted `host action` lines (before vs
/// after) so removals and additions interleave in hostname order.
pub fn rule_lines(folder: &FolderChange) -> Vec<String> {
    let mut before: Vec<String> = Vec::new();
    let mut after: Vec<String> = Vec::new();
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
    before.sort();
    after.sort();
    let mut lines: Vec<(String, String)> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &before, &after) {
        let tag = match op.tag() {
            DiffTag::Equal => continue,
            DiffTag::Delete => "-",
            DiffTag::Insert | DiffTag::Replace => "+",
        };
        if op.tag() == DiffTag::Replace {
            for line in &before[op.old_range()] {
                lines.push((host_of(line), format!("- {line}")));
            }
        }
        let source = if tag == "-" {
            &before[op.old_range()]
        } else {
            &after[op.new_range()]
        };
        for line in source {
            lines.push((host_of(line), format!("{tag} {line}")));
        }
    }
    let mut lines = merge_changes(lines, folder);
    for (hostname, moved) in &folder.move_in {
        let line = format!(
            "~ {hostname} {} (moved from `{}`)",
            moved.action, moved.from_key
        );
        lines.push((hostname.clone(), line));
    }
    lines.sort();
    lines.into_iter().map(|(_, line)| line).collect()
}

/// A changed rule shows as one `~ host old -> new` line instead of a `-` and a `+`.
fn merge_changes(lines: Vec<(String, String)>, folder: &FolderChange) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (hostname, line) in lines {
        match folder.change.get(&hostname) {
            Some(change) => {
                if !merged.iter().any(|(host, _)| *host == hostname) {
                    let text = format!("~ {hostname} {} -> {}", change.from, change.to);
                    merged.push((hostname, text));
                }
            }
            None => merged.push((hostname, line)),
        }
    }
    merged
}

fn host_of(line: &str) -> String {
    line.split(' ').next().unwrap_or_default().to_string()
}

/// At most `cap` lines, then "... and N more".
pub fn capped(lines: Vec<String>, cap: usize) -> Vec<String> {
    if lines.len() <= cap {
        return lines;
    }
    let more = lines.len() - cap;
    let mut kept: Vec<String> = lines.into_iter().take(cap).collect();
    kept.push(format!("... and {} more", super::thousands(more as u64)));
    kept
}

/// `+ folder `ads` "Ads" (block): create`, and the like.
pub fn folder_heading(folder: &FolderChange) -> String {
    let pk = folder.pk.map(|pk| format!(", PK {pk}")).unwrap_or_default();
    let label = format!(
        "folder `{}` \"{}\" ({}{pk})",
        folder.key, folder.name, folder.action
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
        } => format!("~ {label}: update from \"{from_name}\" ({from_action})"),
        FolderChangeKind::Keep if folder.adopted => format!("~ {label}: adopt the existing folder"),
        FolderChangeKind::Keep => format!("~ {label}"),
    }
}

/// Counts after the heading: "+3 ~1 -2, 40 unchanged".
pub fn folder_counts(folder: &FolderChange) -> String {
    format!(
        "{} to add, {} to move here, {} to change, {} to remove, {} unchanged",
        super::thousands(folder.add.len() as u64),
        super::thousands(folder.move_in.len() as u64),
        super::thousands(folder.change.len() as u64),
        super::thousands(folder.remove.len() as u64),
        super::thousands(folder.unchanged as u64),
    )
}

/// Overlap and unmanaged-skip lines of a profile.
pub fn notes(profile: &ProfilePlan) -> Vec<String> {
    let mut notes: Vec<String> = profile
        .destructive
        .iter()
        .map(|offense| format!("destructive, apply needs --allow-destroy: {offense}"))
        .collect();
    for overlap in &profile.overlaps {
        notes.push(format!(
            "overlap: {} is kept by `{}`, dropped from `{}`",
            overlap.hostname, overlap.kept_by, overlap.dropped_from
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
