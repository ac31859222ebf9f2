//! Finite regions for the values of one symbolic variable.
//!
//! IAM compares strings with equality and `*`/`?` globs, numbers and dates with order, and IP
//! addresses with CIDR blocks. For one variable, the tests that policies apply to it split its
//! domain into finitely many regions on which every test has the same outcome. The solver then
//! ranges over region indices, which keeps the problem finite and fast, and each region has one
//! canonical witness value (shortest, then smallest) that makes witnesses readable and stable.
//!
//! Strings: every test is compiled to a small NFA; the product of the NFAs is explored
//! breadth-first over an alphabet of the characters the patterns mention plus one fresh
//! character standing for all others. Each reachable set of accepting NFAs is a region, and the
//! first string to reach it (in shortlex order) is its witness.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The most product states explored for one string variable before giving up.
pub const MAX_PRODUCT_STATES: usize = 200_000;

/// A character class for wildcard tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CharClass {
    Any,
    /// Any character but `:` (wildcards inside one ARN segment).
    NotColon,
}

impl CharClass {
    fn admits(self, c: char) -> bool {
        self == CharClass::Any || c != ':'
    }
}

/// One step of a string pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// A character, optionally matched without regard to case.
    Char { c: char, ignore_case: bool },
    /// Exactly one character of the class.
    One(CharClass),
    /// Any run of characters of the class.
    Run(CharClass),
}

/// A linear string pattern: a sequence of steps that must match the whole string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StringPattern {
    pub steps: Vec<Step>,
}

impl StringPattern {
    pub fn literal(text: &str, ignore_case: bool) -> StringPattern {
        StringPattern {
            steps: text
                .chars()
                .map(|c| Step::Char { c, ignore_case })
                .collect(),
        }
    }

    /// The set of NFA positions reachable from `positions` by epsilon moves (skipping runs).
    fn close(&self, positions: &mut BTreeSet<usize>) {
        let mut stack: Vec<usize> = positions.iter().copied().collect();
        while let Some(p) = stack.pop() {
            if let Some(Step::Run(_)) = self.steps.get(p) {
                if positions.insert(p + 1) {
                    stack.push(p + 1);
                }
            }
        }
    }

    fn start(&self) -> BTreeSet<usize> {
        let mut positions = BTreeSet::from([0]);
        self.close(&mut positions);
        positions
    }

    fn advance(&self, positions: &BTreeSet<usize>, c: char) -> BTreeSet<usize> {
        let mut next = BTreeSet::new();
        for &p in positions {
            match self.steps.get(p) {
                Some(Step::Char {
                    c: want,
                    ignore_case,
                }) => {
                    let same =
                        *want == c || (*ignore_case && want.to_lowercase().eq(c.to_lowercase()));
                    if same {
                        next.insert(p + 1);
                    }
                }
                Some(Step::One(class)) if class.admits(c) => {
                    next.insert(p + 1);
                }
                Some(Step::Run(class)) if class.admits(c) => {
                    next.insert(p);
                }
                _ => {}
            }
        }
        self.close(&mut next);
        next
    }

    /// Whether the pattern accepts the whole of `text`.
    pub fn accepts_text(&self, text: &str) -> bool {
        let mut positions = self.start();
        for c in text.chars() {
            positions = self.advance(&positions, c);
            if positions.is_empty() {
                return false;
            }
        }
        self.accepts(&positions)
    }

    fn accepts(&self, positions: &BTreeSet<usize>) -> bool {
        positions.contains(&self.steps.len())
    }

    fn mentioned_chars(&self, out: &mut BTreeSet<char>) {
        for step in &self.steps {
            match step {
                Step::Char { c, ignore_case } => {
                    out.insert(*c);
                    if *ignore_case {
                        out.extend(c.to_lowercase());
                        out.extend(c.to_uppercase());
                    }
                }
                Step::One(CharClass::NotColon) | Step::Run(CharClass::NotColon) => {
                    out.insert(':');
                }
                _ => {}
            }
        }
    }
}

/// The region partition of a string variable was too large to compute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the string tests on one value have more than {MAX_PRODUCT_STATES} combined states")]
pub struct TooManyStates;

/// Canonical witnesses of the string regions induced by `patterns`, in shortlex order. Every
/// string lies in exactly one region; two strings in one region are accepted by the same
/// patterns.
pub fn string_regions(patterns: &[StringPattern]) -> Result<Vec<String>, TooManyStates> {
    let mut distinct: Vec<StringPattern> = patterns.to_vec();
    distinct.sort();
    distinct.dedup();
    type Cache = HashMap<Vec<StringPattern>, Result<Vec<String>, TooManyStates>>;
    thread_local! {
        static CACHE: std::cell::RefCell<Cache> = std::cell::RefCell::new(HashMap::new());
    }
    if let Some(hit) = CACHE.with(|cache| cache.borrow().get(&distinct).cloned()) {
        return hit;
    }
    let result = compute_string_regions(&distinct);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        // The cache serves the repeated questions of one run (who-can, prove); keep it bounded.
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(distinct, result.clone());
    });
    result
}

/// Case-sensitive literal patterns share one trie: a literal's NFA is a path, and all of them
/// together are one deterministic automaton whose state is a trie node.
#[derive(Default)]
struct LiteralTrie {
    children: Vec<BTreeMap<char, u32>>,
    /// For each node, the literals (by position in the pattern list) that end there.
    ending: Vec<Vec<usize>>,
}

const DEAD: u32 = u32::MAX;

impl LiteralTrie {
    fn new() -> LiteralTrie {
        LiteralTrie {
            children: vec![BTreeMap::new()],
            ending: vec![Vec::new()],
        }
    }

    fn insert(&mut self, text: &[char], pattern: usize) {
        let mut node = 0usize;
        for &c in text {
            node = match self.children[node].get(&c) {
                Some(&next) => next as usize,
                None => {
                    let next = self.children.len();
                    self.children.push(BTreeMap::new());
                    self.ending.push(Vec::new());
                    self.children[node].insert(c, next as u32);
                    next
                }
            };
        }
        self.ending[node].push(pattern);
    }

    fn step(&self, node: u32, c: char) -> u32 {
        if node == DEAD {
            return DEAD;
        }
        self.children[node as usize]
            .get(&c)
            .copied()
            .unwrap_or(DEAD)
    }
}

fn as_literal(pattern: &StringPattern) -> Option<Vec<char>> {
    pattern
        .steps
        .iter()
        .map(|step| match step {
            Step::Char {
                c,
                ignore_case: false,
            } => Some(*c),
            _ => None,
        })
        .collect()
}

fn compute_string_regions(patterns: &[StringPattern]) -> Result<Vec<String>, TooManyStates> {
    let mut alphabet = BTreeSet::new();
    for pattern in patterns {
        pattern.mentioned_chars(&mut alphabet);
    }
    if let Some(fresh) = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .find(|c| !alphabet.contains(c))
        .or_else(|| ('\u{e000}'..'\u{f8ff}').find(|c| !alphabet.contains(c)))
    {
        alphabet.insert(fresh);
    }
    let mut alphabet: Vec<char> = alphabet.into_iter().collect();
    alphabet.sort_by_key(|&c| char_rank(c));

    let mut trie = LiteralTrie::new();
    let mut others: Vec<usize> = Vec::new();
    for (index, pattern) in patterns.iter().enumerate() {
        match as_literal(pattern) {
            Some(text) => trie.insert(&text, index),
            None => others.push(index),
        }
    }
    // Each other pattern's NFA subsets are interned and its transitions memoized, so a product
    // state is a vector of small integers (the trie node first): cheap to compare and hash.
    let mut automata: Vec<InternedNfa> = others
        .iter()
        .map(|&i| InternedNfa::new(&patterns[i]))
        .collect();
    let start: Vec<u32> = std::iter::once(0)
        .chain(automata.iter().map(|_| 0))
        .collect();
    let signature = |automata: &[InternedNfa], state: &[u32]| -> Vec<bool> {
        let mut accepted = vec![false; patterns.len()];
        if state[0] != DEAD {
            for &literal in &trie.ending[state[0] as usize] {
                accepted[literal] = true;
            }
        }
        for ((automaton, &s), &index) in automata.iter().zip(&state[1..]).zip(&others) {
            accepted[index] = automaton.accepting[s as usize];
        }
        accepted
    };
    let mut seen: HashSet<Vec<u32>> = HashSet::new();
    let mut witnesses: BTreeMap<Vec<bool>, String> = BTreeMap::new();
    let mut queue: VecDeque<(Vec<u32>, String)> = VecDeque::new();
    seen.insert(start.clone());
    queue.push_back((start, String::new()));
    while let Some((state, text)) = queue.pop_front() {
        witnesses
            .entry(signature(&automata, &state))
            .or_insert_with(|| text.clone());
        for &c in &alphabet {
            let mut next = Vec::with_capacity(state.len());
            next.push(trie.step(state[0], c));
            next.extend(
                automata
                    .iter_mut()
                    .zip(&state[1..])
                    .map(|(a, &s)| a.step(s, c)),
            );
            if seen.contains(&next) {
                continue;
            }
            if seen.len() >= MAX_PRODUCT_STATES {
                return Err(TooManyStates);
            }
            seen.insert(next.clone());
            let mut longer = text.clone();
            longer.push(c);
            queue.push_back((next, longer));
        }
    }
    let mut out: Vec<String> = witnesses.into_values().collect();
    out.sort_by_key(|w| {
        (
            w.chars().count(),
            w.chars().map(char_rank).collect::<Vec<_>>(),
        )
    });
    Ok(out)
}

/// One pattern's NFA with its position sets interned (set 0 is the start) and its
/// transitions memoized.
struct InternedNfa<'p> {
    pattern: &'p StringPattern,
    sets: Vec<BTreeSet<usize>>,
    ids: HashMap<BTreeSet<usize>, u32>,
    accepting: Vec<bool>,
    transitions: HashMap<(u32, char), u32>,
}

impl<'p> InternedNfa<'p> {
    fn new(pattern: &'p StringPattern) -> InternedNfa<'p> {
        let mut nfa = InternedNfa {
            pattern,
            sets: Vec::new(),
            ids: HashMap::new(),
            accepting: Vec::new(),
            transitions: HashMap::new(),
        };
        nfa.intern(pattern.start());
        nfa
    }

    fn intern(&mut self, set: BTreeSet<usize>) -> u32 {
        if let Some(&id) = self.ids.get(&set) {
            return id;
        }
        let id = self.sets.len() as u32;
        self.accepting.push(self.pattern.accepts(&set));
        self.ids.insert(set.clone(), id);
        self.sets.push(set);
        id
    }

    fn step(&mut self, state: u32, c: char) -> u32 {
        if let Some(&next) = self.transitions.get(&(state, c)) {
            return next;
        }
        let next_set = self.pattern.advance(&self.sets[state as usize], c);
        let next = self.intern(next_set);
        self.transitions.insert((state, c), next);
        next
    }
}

/// Whether some string is accepted by both patterns: a search over pairs of NFA positions,
/// linear in the product of their lengths (no subset construction).
pub fn patterns_intersect(a: &StringPattern, b: &StringPattern) -> bool {
    let mut alphabet = BTreeSet::new();
    a.mentioned_chars(&mut alphabet);
    b.mentioned_chars(&mut alphabet);
    alphabet.insert(':');
    if let Some(fresh) = "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .find(|c| !alphabet.contains(c))
    {
        alphabet.insert(fresh);
    }
    let start = (a.start(), b.start());
    let mut seen: HashSet<(BTreeSet<usize>, BTreeSet<usize>)> = HashSet::from([start.clone()]);
    let mut queue = VecDeque::from([start]);
    while let Some((left, right)) = queue.pop_front() {
        if a.accepts(&left) && b.accepts(&right) {
            return true;
        }
        for &c in &alphabet {
            let next = (a.advance(&left, c), b.advance(&right, c));
            if next.0.is_empty() || next.1.is_empty() {
                continue;
            }
            if seen.len() >= MAX_PRODUCT_STATES {
                return true;
            }
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    false
}

/// The order in which witnesses prefer characters: lower-case letters, digits, punctuation,
/// then upper case, so that canonical witnesses read like ordinary values (`true`, not `TRUE`).
fn char_rank(c: char) -> (u8, char) {
    let class = if c.is_ascii_lowercase() {
        0
    } else if c.is_ascii_digit() {
        1
    } else if c.is_ascii_uppercase() {
        3
    } else if c.is_ascii() {
        2
    } else {
        4
    };
    (class, c)
}

/// Witnesses of the regions of a totally ordered domain cut by `constants`: each constant is a
/// region of its own, and so is each open interval between and around them. `between` picks a
/// value strictly inside an interval (bounds are `None` for infinity).
fn ordered_regions<T: Copy + PartialOrd>(
    constants: &[T],
    between: impl Fn(Option<T>, Option<T>) -> Option<T>,
) -> Vec<T> {
    let mut sorted: Vec<T> = constants.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    sorted.dedup_by(|a, b| a == b);
    let mut out = Vec::new();
    let mut lower = None;
    for &constant in &sorted {
        out.extend(between(lower, Some(constant)));
        out.push(constant);
        lower = Some(constant);
    }
    out.extend(between(lower, None));
    out
}

/// Number regions (as numbers written in policies: integers or decimals).
pub fn number_regions(constants: &[f64]) -> Vec<f64> {
    ordered_regions(constants, |low, high| match (low, high) {
        (None, None) => Some(0.0),
        (None, Some(h)) => Some((h - 1.0).floor()),
        (Some(l), None) => Some((l + 1.0).floor()),
        (Some(l), Some(h)) => {
            let next_integer = l.floor() + 1.0;
            let candidate = if next_integer < h {
                next_integer
            } else {
                (l + h) / 2.0
            };
            (candidate > l && candidate < h).then_some(candidate)
        }
    })
}

/// Date regions, in milliseconds since the epoch.
pub fn date_regions(constants: &[i64]) -> Vec<i64> {
    const SECOND: i64 = 1000;
    ordered_regions(constants, |low, high| match (low, high) {
        (None, None) => Some(0),
        (None, Some(h)) => Some(h - SECOND),
        (Some(l), None) => Some(l + SECOND),
        (Some(l), Some(h)) => {
            let candidate = if l + SECOND < h { l + SECOND } else { l + 1 };
            (candidate < h).then_some(candidate)
        }
    })
}

/// IP address regions for a set of networks: the address space of each family cut at every
/// network boundary; each elementary interval is a region, witnessed by its lowest address.
pub fn ip_regions(networks: &[ipnet::IpNet]) -> Vec<IpAddr> {
    let mut v4_cuts: BTreeSet<u128> = BTreeSet::from([0]);
    let mut v6_cuts: BTreeSet<u128> = BTreeSet::from([0]);
    for network in networks {
        match network {
            ipnet::IpNet::V4(n) => {
                v4_cuts.insert(u32::from(n.network()) as u128);
                v4_cuts.insert(u32::from(n.broadcast()) as u128 + 1);
            }
            ipnet::IpNet::V6(n) => {
                v6_cuts.insert(u128::from(n.network()));
                if let Some(after) = u128::from(n.broadcast()).checked_add(1) {
                    v6_cuts.insert(after);
                }
            }
        }
    }
    let v4 = v4_cuts
        .into_iter()
        .filter(|&a| a <= u32::MAX as u128)
        .map(|a| IpAddr::V4(Ipv4Addr::from(a as u32)));
    let v6 = v6_cuts.into_iter().map(|a| IpAddr::V6(Ipv6Addr::from(a)));
    v4.chain(v6).collect()
}

/// Writes a date in milliseconds as ISO 8601 (UTC), with milliseconds only when needed.
pub fn format_date(millis: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(millis) {
        Some(instant) if millis % 1000 == 0 => instant.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(instant) => instant.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => millis.to_string(),
    }
}

/// Writes a number the way a policy would.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::pattern::{Glob, GlobToken};

    fn glob(text: &str) -> StringPattern {
        StringPattern {
            steps: Glob::parse(text)
                .tokens()
                .iter()
                .map(|t| match t {
                    GlobToken::Literal(c) => Step::Char {
                        c: *c,
                        ignore_case: false,
                    },
                    GlobToken::AnyChar => Step::One(CharClass::Any),
                    GlobToken::AnyRun => Step::Run(CharClass::Any),
                })
                .collect(),
        }
    }

    #[test]
    fn string_regions_separate_every_pattern_combination() {
        let patterns = [glob("a*"), glob("*b"), StringPattern::literal("ab", false)];
        let regions = string_regions(&patterns).unwrap();
        // none; a*; *b; ab; a* and *b but not ab.
        assert_eq!(regions, vec!["", "a", "b", "ab", "aab"]);
        for witness in &regions {
            let signature: Vec<bool> = [Glob::parse("a*"), Glob::parse("*b"), Glob::literal("ab")]
                .iter()
                .map(|g| g.matches(witness))
                .collect();
            let same: Vec<&String> = regions
                .iter()
                .filter(|w| {
                    [Glob::parse("a*"), Glob::parse("*b"), Glob::literal("ab")]
                        .iter()
                        .map(|g| g.matches(w))
                        .collect::<Vec<_>>()
                        == signature
                })
                .collect();
            assert_eq!(same.len(), 1, "{witness}");
        }
    }

    #[test]
    fn ignore_case_and_colon_classes() {
        let patterns = [StringPattern::literal("TRUE", true)];
        assert_eq!(string_regions(&patterns).unwrap(), vec!["", "true"]);
        let segment = StringPattern {
            steps: vec![
                Step::Run(CharClass::NotColon),
                Step::Char {
                    c: 'x',
                    ignore_case: false,
                },
            ],
        };
        let regions = string_regions(&[segment]).unwrap();
        assert!(regions.contains(&"x".to_string()));
        assert!(regions.contains(&"".to_string()));
    }

    #[test]
    fn ordered_domains() {
        assert_eq!(
            number_regions(&[10.0, 5.0]),
            vec![4.0, 5.0, 6.0, 10.0, 11.0]
        );
        assert_eq!(number_regions(&[1.0, 1.5]), vec![0.0, 1.0, 1.25, 1.5, 2.0]);
        assert_eq!(date_regions(&[0]), vec![-1000, 0, 1000]);
        let nets = [
            "10.0.0.0/8".parse().unwrap(),
            "2001:db8::/32".parse().unwrap(),
        ];
        let regions = ip_regions(&nets);
        assert_eq!(regions.len(), 6);
        assert!(regions.contains(&"10.0.0.0".parse().unwrap()));
        assert!(regions.contains(&"11.0.0.0".parse().unwrap()));
    }

    #[test]
    fn formats() {
        assert_eq!(format_date(1672531200000), "2023-01-01T00:00:00Z");
        assert_eq!(format_date(1672531200001), "2023-01-01T00:00:00.001Z");
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(1.25), "1.25");
    }
}
