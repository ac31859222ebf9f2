//! Glob patterns as IAM uses them: `*` matches any run of characters, `?` exactly one.
//!
//! Patterns are token lists rather than strings so that characters produced by the escape
//! variables `${*}`, `${?}` and `${$}` stay literal. ARN matching splits both sides into the six
//! colon-delimited segments and matches each on its own, as AWS documents for `Resource` and the
//! `Arn*` condition operators.

/// One element of a glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlobToken {
    /// A character that must appear as it is.
    Literal(char),
    /// `?`: exactly one character.
    AnyChar,
    /// `*`: any run of characters, possibly empty.
    AnyRun,
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Glob {
    tokens: Vec<GlobToken>,
}

impl Glob {
    /// A pattern in which `*` and `?` are wildcards and every other character is literal.
    pub fn parse(text: &str) -> Glob {
        Glob {
            tokens: text
                .chars()
                .map(|c| match c {
                    '*' => GlobToken::AnyRun,
                    '?' => GlobToken::AnyChar,
                    other => GlobToken::Literal(other),
                })
                .collect(),
        }
    }

    /// A pattern that matches exactly `text`, wildcard characters included.
    pub fn literal(text: &str) -> Glob {
        Glob {
            tokens: text.chars().map(GlobToken::Literal).collect(),
        }
    }

    pub fn from_tokens(tokens: Vec<GlobToken>) -> Glob {
        Glob { tokens }
    }

    pub fn tokens(&self) -> &[GlobToken] {
        &self.tokens
    }

    /// True when the pattern is exactly `*`.
    pub fn is_match_all(&self) -> bool {
        self.tokens == [GlobToken::AnyRun]
    }

    /// True when the pattern has no wildcard tokens.
    pub fn is_literal(&self) -> bool {
        self.tokens
            .iter()
            .all(|t| matches!(t, GlobToken::Literal(_)))
    }

    /// Matches the whole of `text`, case-sensitively.
    pub fn matches(&self, text: &str) -> bool {
        match_text(&self.tokens, text, false)
    }

    /// Matches the whole of `text`, ignoring ASCII and Unicode case.
    pub fn matches_ignore_case(&self, text: &str) -> bool {
        match_text(&self.tokens, text, true)
    }

    /// Matches an ARN segment by segment: the first five colons delimit partition, service,
    /// region, account and resource; the resource segment may itself contain colons. A pattern
    /// that is `*` alone matches anything; a pattern or a value without six segments is compared
    /// as one whole string.
    pub fn matches_arn(&self, arn: &str) -> bool {
        if self.is_match_all() {
            return true;
        }
        let pattern_segments = split_tokens_into_arn_segments(&self.tokens);
        if pattern_segments.len() != 6 || arn.split(':').nth(5).is_none() {
            return self.matches(arn);
        }
        let matched = pattern_segments
            .iter()
            .zip(arn.splitn(6, ':'))
            .all(|(pattern, value)| match_text(pattern, value, false));
        matched
    }

    /// The six ARN segments of the pattern, each a pattern of its own, when it has six (the
    /// sixth keeps its colons); `None` otherwise, when [`Glob::matches_arn`] compares whole
    /// strings.
    pub fn arn_segments(&self) -> Option<Vec<Glob>> {
        let segments = split_tokens_into_arn_segments(&self.tokens);
        (segments.len() == 6).then(|| {
            segments
                .iter()
                .map(|tokens| Glob::from_tokens(tokens.to_vec()))
                .collect()
        })
    }

    /// What may follow `prefix` in a text the pattern matches (whole text, case-sensitive):
    /// `prefix + s` matches the pattern exactly when `s` matches one of the returned patterns.
    /// Empty when no text that starts with `prefix` matches. A returned pattern that another
    /// returned one always covers (`X` beside `*X`) is left out.
    pub fn after_prefix(&self, prefix: &str) -> Vec<Glob> {
        let tokens = &self.tokens;
        // The token positions the prefix read so far can end at; a star may match nothing, so
        // the position after a star goes with the star's.
        let close = |positions: &mut std::collections::BTreeSet<usize>| {
            let mut stack: Vec<usize> = positions.iter().copied().collect();
            while let Some(at) = stack.pop() {
                if tokens.get(at) == Some(&GlobToken::AnyRun) && positions.insert(at + 1) {
                    stack.push(at + 1);
                }
            }
        };
        let mut positions = std::collections::BTreeSet::from([0usize]);
        close(&mut positions);
        for c in prefix.chars() {
            let mut next = std::collections::BTreeSet::new();
            for &at in &positions {
                match tokens.get(at) {
                    Some(GlobToken::AnyRun) => {
                        next.insert(at);
                    }
                    Some(GlobToken::AnyChar) => {
                        next.insert(at + 1);
                    }
                    Some(GlobToken::Literal(l)) if *l == c => {
                        next.insert(at + 1);
                    }
                    _ => {}
                }
            }
            close(&mut next);
            positions = next;
        }
        let covered = |at: usize| {
            at > 0 && tokens[at - 1] == GlobToken::AnyRun && positions.contains(&(at - 1))
        };
        let rests: Vec<Glob> = positions
            .iter()
            .filter(|&&at| !covered(at))
            .map(|&at| Glob::from_tokens(tokens[at..].to_vec()))
            .collect();
        match rests.iter().find(|rest| rest.is_match_all()) {
            Some(all) => vec![all.clone()],
            None => rests,
        }
    }

    /// The pattern written back as IAM text (literal wildcard characters are not escaped).
    pub fn to_text(&self) -> String {
        self.tokens
            .iter()
            .map(|t| match t {
                GlobToken::Literal(c) => *c,
                GlobToken::AnyChar => '?',
                GlobToken::AnyRun => '*',
            })
            .collect()
    }
}

/// The colon-delimited segments of a pattern (at most six: the sixth keeps its colons), in a
/// fixed array because matching runs in the evaluator's inner loop.
struct ArnSegments<'t> {
    segments: [&'t [GlobToken]; 6],
    count: usize,
}

impl<'t> ArnSegments<'t> {
    fn len(&self) -> usize {
        self.count
    }

    fn iter(&self) -> impl Iterator<Item = &&'t [GlobToken]> {
        self.segments[..self.count].iter()
    }
}

fn split_tokens_into_arn_segments(tokens: &[GlobToken]) -> ArnSegments<'_> {
    let mut out = ArnSegments {
        segments: [&[]; 6],
        count: 0,
    };
    let mut start = 0;
    for (index, token) in tokens.iter().enumerate() {
        if out.count == 5 {
            break;
        }
        if *token == GlobToken::Literal(':') {
            out.segments[out.count] = &tokens[start..index];
            out.count += 1;
            start = index + 1;
        }
    }
    out.segments[out.count] = &tokens[start..];
    out.count += 1;
    out
}

fn chars_equal(a: char, b: char, ignore_case: bool) -> bool {
    if a == b {
        true
    } else if !ignore_case {
        false
    } else if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(&b)
    } else {
        a.to_lowercase().eq(b.to_lowercase())
    }
}

/// Matches `text` as a whole; ASCII text (nearly every ARN and action) is matched on its bytes
/// without collecting its characters.
fn match_text(tokens: &[GlobToken], text: &str, ignore_case: bool) -> bool {
    if text.is_ascii() {
        match_tokens(tokens, text.as_bytes(), ignore_case)
    } else {
        let chars: Vec<char> = text.chars().collect();
        match_tokens(tokens, &chars, ignore_case)
    }
}

/// Iterative wildcard matching with single-star backtracking: linear in the usual case,
/// quadratic at worst, never exponential.
fn match_tokens<C: Copy + Into<char>>(tokens: &[GlobToken], text: &[C], ignore_case: bool) -> bool {
    let (mut t, mut s) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    while s < text.len() {
        match tokens.get(t) {
            Some(GlobToken::AnyRun) => {
                resume = Some((t, s));
                t += 1;
            }
            Some(GlobToken::AnyChar) => {
                t += 1;
                s += 1;
            }
            Some(GlobToken::Literal(c)) if chars_equal(*c, text[s].into(), ignore_case) => {
                t += 1;
                s += 1;
            }
            _ => match resume {
                Some((star, matched_from)) => {
                    t = star + 1;
                    s = matched_from + 1;
                    resume = Some((star, matched_from + 1));
                }
                None => return false,
            },
        }
    }
    tokens[t.min(tokens.len())..]
        .iter()
        .all(|tok| *tok == GlobToken::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        assert!(Glob::parse("s3:Get*").matches("s3:GetObject"));
        assert!(Glob::parse("s3:Get*").matches("s3:Get"));
        assert!(!Glob::parse("s3:Get*").matches("s3:PutObject"));
        assert!(Glob::parse("a?c").matches("abc"));
        assert!(!Glob::parse("a?c").matches("ac"));
        assert!(Glob::parse("*a*b*").matches("xxaxxbxx"));
        assert!(!Glob::parse("*a*b").matches("xxaxxbxxc"));
        assert!(Glob::parse("").matches(""));
        assert!(!Glob::parse("").matches("x"));
    }

    #[test]
    fn case_sensitivity() {
        assert!(!Glob::parse("s3:getobject").matches("s3:GetObject"));
        assert!(Glob::parse("s3:getobj*").matches_ignore_case("S3:GetObject"));
    }

    #[test]
    fn literal_wildcards_stay_literal() {
        let glob = Glob::literal("a*");
        assert!(glob.matches("a*"));
        assert!(!glob.matches("ab"));
    }

    #[test]
    fn arn_segments_match_separately() {
        let glob = Glob::parse("arn:aws:s3:::bucket/*");
        assert!(glob.matches_arn("arn:aws:s3:::bucket/a/b:c"));
        assert!(!glob.matches_arn("arn:aws:s3:::other/a"));
        // A star in the region segment does not swallow the account segment.
        let glob = Glob::parse("arn:aws:iam:*::role/x");
        assert!(!glob.matches_arn("arn:aws:iam::123456789012:role/x"));
        assert!(
            Glob::parse("arn:aws:iam::*:role/x").matches_arn("arn:aws:iam::123456789012:role/x")
        );
        assert!(Glob::parse("*").matches_arn("anything at all"));
    }

    fn texts(globs: Vec<Glob>) -> Vec<String> {
        globs.iter().map(Glob::to_text).collect()
    }

    #[test]
    fn what_follows_a_prefix() {
        let glob = Glob::parse("media-*");
        assert_eq!(texts(glob.after_prefix("media-in/")), ["*"]);
        assert_eq!(texts(glob.after_prefix("finance/")), Vec::<String>::new());
        // `*/*` is covered by `*`.
        assert_eq!(
            texts(Glob::parse("media-*/*").after_prefix("media-in/")),
            ["*"]
        );
        assert_eq!(
            texts(Glob::parse("media-in/reports/*").after_prefix("media-in/")),
            ["reports/*"]
        );
        assert_eq!(texts(Glob::parse("*a*").after_prefix("bb/")), ["*a*"]);
        // The star may end before or after the `a` of the prefix.
        assert_eq!(
            texts(Glob::parse("*a?x").after_prefix("ba")),
            ["*a?x", "?x"]
        );
        assert_eq!(texts(Glob::parse("b").after_prefix("b")), [""]);
        for (pattern, prefix, rest) in [
            ("*a?x", "ba", "yx"),
            ("*a?x", "ba", "zzayx"),
            ("m?dia-*/out/*", "media-in/", "out/a"),
        ] {
            let glob = Glob::parse(pattern);
            let full = format!("{prefix}{rest}");
            let follows = glob.after_prefix(prefix).iter().any(|g| g.matches(rest));
            assert_eq!(follows, glob.matches(&full), "{pattern} {full}");
        }
    }
}
