//! Deterministic, hagezi-like synthetic lists: ~25 Control D folders of 20..1,300 rules with mixed
//! per-rule actions, wildcards and overlaps between folders. Every hostname is made up from a seed;
//! nothing is copied from a real list.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::data::{Act, FolderAct, List, ProfileLists};

/// Relative folder sizes, shaped like the two dozen hagezi folder files (largest first).
const SIZE_SHAPE: [usize; 25] = [
    1300, 1250, 1100, 900, 800, 700, 600, 520, 450, 400, 350, 300, 260, 220, 180, 150, 120, 100,
    80, 60, 50, 40, 30, 25, 20,
];

const SYLLABLES: [&str; 24] = [
    "ba", "ko", "ri", "mex", "tal", "vo", "zen", "qua", "dro", "pix", "lu", "nar", "sem", "tik",
    "ul", "fa", "gor", "hy", "jin", "wex", "ost", "pra", "cy", "dul",
];
const TLDS: [&str; 12] = [
    "com", "net", "org", "io", "info", "xyz", "top", "site", "online", "click", "app", "co",
];
const PREFIXES: [&str; 8] = ["", "", "", "cdn.", "api.", "t.", "metrics.", "ads."];

/// What kind of folder a list models, which decides its actions.
#[derive(Clone, Copy)]
enum Kind {
    Block,
    Allow,
    /// A folder without `do`, with block rules and some allow exceptions.
    NoAction,
    /// Spam TLD style: wildcards over whole made-up TLDs.
    Tlds,
}

fn kind_of(index: usize) -> Kind {
    match index % 8 {
        3 => Kind::Allow,
        5 if index < 8 => Kind::NoAction,
        7 if index < 8 => Kind::Tlds,
        _ => Kind::Block,
    }
}

/// Lists for `profiles` profiles of about `rules_per_profile` rules over `folders` folders each.
pub fn generate(
    seed: u64,
    profiles: usize,
    folders: usize,
    rules_per_profile: usize,
) -> Vec<ProfileLists> {
    (0..profiles)
        .map(|index| {
            let mut rng =
                ChaCha8Rng::seed_from_u64(seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9));
            ProfileLists {
                id: profile_id(index),
                lists: generate_profile(&mut rng, index, folders, rules_per_profile),
            }
        })
        .collect()
}

/// Profile ids shaped like Control D's (12 characters).
pub fn profile_id(index: usize) -> String {
    format!("bench{:07}", index + 1)
}

fn generate_profile(
    rng: &mut ChaCha8Rng,
    profile: usize,
    folders: usize,
    total: usize,
) -> Vec<List> {
    let sizes = folder_sizes(folders, total);
    let mut used = HashSet::new();
    let mut earlier: Vec<String> = Vec::new();
    let mut lists = Vec::with_capacity(folders);
    for (index, size) in sizes.into_iter().enumerate() {
        let kind = kind_of(index);
        let mut rules = Vec::with_capacity(size);
        let mut in_list = HashSet::new();
        while rules.len() < size {
            let host = pick_host(rng, kind, &earlier, &mut used);
            if in_list.insert(host.clone()) {
                rules.push((host, rule_act(rng, kind)));
            }
        }
        earlier.extend(rules.iter().map(|(host, _)| host.clone()));
        lists.push(List {
            key: format!("p{}-list{:02}", profile + 1, index + 1),
            name: folder_name(profile, index, kind),
            action: folder_act(kind),
            rules,
        });
    }
    lists
}

/// The size shape scaled to `total` rules over `folders` folders (each at least 5).
pub fn folder_sizes(folders: usize, total: usize) -> Vec<usize> {
    let shape: Vec<usize> = (0..folders)
        .map(|i| SIZE_SHAPE[i * SIZE_SHAPE.len() / folders])
        .collect();
    let sum: usize = shape.iter().sum();
    shape
        .iter()
        .map(|weight| ((weight * total + sum / 2) / sum).max(5))
        .collect()
}

/// About 3% of a later folder's rules repeat a hostname an earlier folder already lists (overlap).
fn pick_host(
    rng: &mut ChaCha8Rng,
    kind: Kind,
    earlier: &[String],
    used: &mut HashSet<String>,
) -> String {
    if !earlier.is_empty() && rng.gen_bool(0.03) {
        return earlier.choose(rng).expect("not empty").clone();
    }
    loop {
        let host = match kind {
            Kind::Tlds => format!("*.{}", label(rng, 2)),
            _ => fresh_host(rng),
        };
        if used.insert(host.clone()) {
            return host;
        }
    }
}

/// A made-up hostname; 3% are `*.` wildcards and 1% label wildcards (`api-*.x.com`), as real lists have.
pub fn fresh_host(rng: &mut ChaCha8Rng) -> String {
    let syllables = rng.gen_range(2..=4);
    let base = format!(
        "{}{}.{}",
        label(rng, syllables),
        rng.gen_range(0..1000),
        TLDS.choose(rng).expect("not empty")
    );
    let roll = rng.gen_range(0..100);
    match roll {
        0..=2 => format!("*.{base}"),
        3 => format!("api-*.{base}"),
        _ => format!("{}{base}", PREFIXES.choose(rng).expect("not empty")),
    }
}

fn label(rng: &mut ChaCha8Rng, syllables: usize) -> String {
    (0..syllables)
        .map(|_| *SYLLABLES.choose(rng).expect("not empty"))
        .collect()
}

fn rule_act(rng: &mut ChaCha8Rng, kind: Kind) -> Act {
    let allow_share = match kind {
        Kind::Allow => 1.0,
        Kind::NoAction => 0.3,
        Kind::Block => 0.05,
        Kind::Tlds => 0.0,
    };
    if rng.gen_bool(allow_share) {
        Act::ALLOW
    } else {
        Act::BLOCK
    }
}

fn folder_act(kind: Kind) -> FolderAct {
    let kind = match kind {
        Kind::Allow => Some(1),
        Kind::NoAction => None,
        Kind::Block | Kind::Tlds => Some(0),
    };
    FolderAct { kind, status: 1 }
}

fn folder_name(profile: usize, index: usize, kind: Kind) -> String {
    let what = match kind {
        Kind::Allow => "Allow",
        Kind::NoAction => "Mixed",
        Kind::Tlds => "Spam TLDs",
        Kind::Block => "Tracker",
    };
    format!("Bench {what} {:02} (p{})", index + 1, profile + 1)
}

/// Upstream churn: in each list, a `share` of the rules change: 40% removed, 40% new hostnames
/// added, 10% flipped between block and allow, 10% moved to the next list.
pub fn churn(seed: u64, profiles: &[ProfileLists], share: f64) -> Vec<ProfileLists> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut used: HashSet<String> = profiles
        .iter()
        .flat_map(|p| {
            p.lists
                .iter()
                .flat_map(|l| l.rules.iter().map(|(h, _)| h.clone()))
        })
        .collect();
    profiles
        .iter()
        .map(|profile| ProfileLists {
            id: profile.id.clone(),
            lists: churn_profile(&mut rng, &profile.lists, share, &mut used),
        })
        .collect()
}

fn churn_profile(
    rng: &mut ChaCha8Rng,
    lists: &[List],
    share: f64,
    used: &mut HashSet<String>,
) -> Vec<List> {
    let mut out: Vec<List> = lists.to_vec();
    let count = out.len();
    for index in 0..count {
        let affected = (out[index].rules.len() as f64 * share).round() as usize;
        let removed = affected * 4 / 10;
        let added = affected * 4 / 10;
        let flipped = affected / 10;
        let moved = affected - removed - added - flipped;
        let mut positions: Vec<usize> = (0..out[index].rules.len()).collect();
        positions.shuffle(rng);
        for &position in &positions[removed..removed + flipped] {
            let rule = &mut out[index].rules[position];
            rule.1 = if rule.1 == Act::BLOCK {
                Act::ALLOW
            } else {
                Act::BLOCK
            };
        }
        let mut taken: Vec<usize> = positions[..removed].to_vec();
        let movers: Vec<usize> = positions[removed + flipped..removed + flipped + moved].to_vec();
        let moving: Vec<(String, Act)> = movers
            .iter()
            .map(|&p| out[index].rules[p].clone())
            .collect();
        taken.extend(movers);
        taken.sort_unstable_by(|a, b| b.cmp(a));
        for position in taken {
            out[index].rules.remove(position);
        }
        for _ in 0..added {
            let host = loop {
                let host = fresh_host(rng);
                if used.insert(host.clone()) {
                    break host;
                }
            };
            out[index].rules.push((host, rule_act(rng, Kind::Block)));
        }
        let next = (index + 1) % count;
        for rule in moving {
            if !out[next].rules.iter().any(|(host, _)| *host == rule.0) {
                out[next].rules.push(rule);
            }
        }
    }
    out
}
