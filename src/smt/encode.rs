//! Requests with symbolic parts, and the policy evaluation logic as formulas over them.
//!
//! A [`Problem`] holds the hops of a delegation chain. Each hop is one authorization check: a
//! concrete principal and action, a resource that is fixed or a variable, and a context whose
//! keys are fixed (set by the service or derived from the principal), absent, or free (chosen by
//! the caller, or unknown to the model). Hops of one API call share their free keys.
//!
//! Every test a policy applies to a variable refines that variable's regions; the formula of a
//! test is then the set of regions on which the concrete evaluator's own test holds, evaluated
//! on each region's witness. The combination of statements into a decision mirrors
//! [`crate::eval::evaluate`] rule for rule; witnesses are replayed through it to check.

use super::formula::{Formula, Slot, VarId, ABSENT};
use super::regions::{self, CharClass, Step, StringPattern};
use crate::eval::principal::PrincipalMatch;
use crate::eval::{
    classify, principal_applies, AwsPrincipalKind, PolicySet, Principal, PrincipalRule,
    ResourceKind, RCP_SERVICES,
};
use crate::policy::condition::{
    parse_date_millis, parse_ip_range, parse_number, Condition, OperatorFamily, OperatorKind,
    SetQualifier,
};
use crate::policy::pattern::{Glob, GlobToken};
use crate::policy::template::{Template, TemplatePart};
use crate::policy::{Context, ContextValue, Effect, Statement};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Something the encoding does not cover; the answer that depends on it is `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

/// The value domain of a variable, as the witnesses of its regions.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    Strings(Vec<String>),
    Numbers(Vec<f64>),
    Dates(Vec<i64>),
    Ips(Vec<IpAddr>),
}

impl Domain {
    pub fn len(&self) -> usize {
        match self {
            Domain::Strings(v) => v.len(),
            Domain::Numbers(v) => v.len(),
            Domain::Dates(v) => v.len(),
            Domain::Ips(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The witness of region `index` as a context value.
    pub fn witness(&self, index: usize) -> Option<String> {
        match self {
            Domain::Strings(v) => v.get(index).cloned(),
            Domain::Numbers(v) => v.get(index).map(|n| regions::format_number(*n)),
            Domain::Dates(v) => v.get(index).map(|d| regions::format_date(*d)),
            Domain::Ips(v) => v.get(index).map(|ip| ip.to_string()),
        }
    }
}

/// What kind of tests a variable has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Unused,
    Text,
    Number,
    Date,
    Ip,
}

/// A symbolic value: the resource of a hop, or a free context key of one API call.
#[derive(Debug, Clone)]
pub struct Variable {
    /// `resource`, or the context key.
    pub name: String,
    /// The API call whose hops share it.
    pub call: usize,
    /// Set-valued keys have several member slots; scalars have one.
    pub slots: usize,
    /// Whether the key holds a set of values.
    pub is_set: bool,
    set_tests: usize,
    /// Whether the value may be absent (context keys) or must be present (resources).
    pub may_be_absent: bool,
    family: Family,
    strings: Vec<StringPattern>,
    numbers: Vec<f64>,
    dates: Vec<i64>,
    networks: Vec<ipnet::IpNet>,
    /// For a resource: globs its value must match, every one of them. Resource patterns of
    /// statements that share no ARN with one of them are false wherever the value may lie, so
    /// they do not split its regions.
    within: Vec<Glob>,
    pub domain: Domain,
}

/// A hop's resource: a fixed ARN or a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Fixed(String),
    Var(VarId),
}

/// One authorization check of a chain.
#[derive(Debug, Clone)]
pub struct Hop {
    pub principal: Principal,
    pub action: String,
    pub resource: Term,
    pub resource_account: Option<String>,
    pub policies: PolicySet,
    pub call: usize,
    /// Keys whose values the service or the principal determine.
    pub fixed: Context,
    /// Which keys the solver may choose.
    pub keys: KeyFreedom,
    /// Keys known to be absent from the request, in lowercase, whatever `keys` says (the
    /// permissions boundary of a principal that has none).
    pub absent: Vec<String>,
    /// Keys AWS may set to values nobody documents, in lowercase: free whatever `keys` says,
    /// and an assumption of any witness that relies on them.
    pub undocumented: Vec<String>,
}

impl Hop {
    /// Whether AWS sets `key` to a value nobody documents (an entry ending in `/` names a
    /// family of keys, such as `aws:principaltag/`).
    pub fn is_undocumented(&self, key: &str) -> bool {
        self.undocumented.iter().any(|u| {
            u.eq_ignore_ascii_case(key)
                || u.ends_with('/') && key.len() > u.len() && key[..u.len()].eq_ignore_ascii_case(u)
        })
    }

    /// Whether `key` is a free variable of this hop.
    pub fn is_free(&self, key: &str) -> bool {
        if self.absent.iter().any(|a| a.eq_ignore_ascii_case(key)) {
            return false;
        }
        if self.is_undocumented(key) {
            return !self.fixed.contains(key);
        }
        match &self.keys {
            KeyFreedom::Fixed => false,
            KeyFreedom::Chain(origin) => {
                !self.fixed.contains(key)
                    && crate::context_model::classify(key, origin, &self.action).is_free()
            }
            KeyFreedom::Any => !self.fixed.contains(key),
        }
    }
}

/// Which context keys of a hop, beyond those it fixes, take any value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFreedom {
    /// None: the context is exactly the fixed keys.
    Fixed,
    /// Those the request context model leaves free for a call of this origin: what the caller
    /// chooses and what AWS sets from facts the snapshots do not record. Keys that follow from
    /// the principal, the resource or the service are absent unless fixed.
    Chain(crate::context_model::Origin),
    /// Every key, even those AWS derives from the principal or the resource: for questions
    /// about every possible request rather than one principal's.
    Any,
}

/// Keys that AWS documents as holding sets of values (the global ones, and those of KMS, whose
/// keys the chains through S3 test).
fn is_set_key(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "aws:tagkeys"
            | "aws:calledvia"
            | "aws:principalorgpaths"
            | "aws:principalservicenameslist"
            | "kms:encryptioncontextkeys"
            | "kms:grantoperations"
    )
}

/// Whether a key may hold several values in a request about every possible request
/// ([`KeyFreedom::Any`]): the global keys hold one unless documented otherwise, and a service's
/// key is taken to hold a set unless known, since many do.
fn may_hold_several(key: &str) -> bool {
    is_set_key(key) || !key.to_ascii_lowercase().starts_with("aws:")
}

/// The hops of one question and their variables.
#[derive(Debug, Default)]
pub struct Problem {
    pub variables: Vec<Variable>,
    pub hops: Vec<Hop>,
    keys: BTreeMap<(usize, String), VarId>,
    /// Values a reader recognises for some keys (lowercase), to stand for their regions.
    preferred: BTreeMap<String, std::sync::Arc<[String]>>,
    /// Date keys (lowercase) whose values lie within a window, in milliseconds, bounds
    /// included.
    windows: BTreeMap<String, (i64, i64)>,
}

/// The string pattern of a glob matched as one whole string (actions: `ignore_case`).
pub fn text_pattern(glob: &Glob, ignore_case: bool) -> StringPattern {
    StringPattern {
        steps: glob_steps_with_case(glob, CharClass::Any, ignore_case),
    }
}

fn glob_steps(glob: &Glob, class: CharClass) -> Vec<Step> {
    glob_steps_with_case(glob, class, false)
}

fn glob_steps_with_case(glob: &Glob, class: CharClass, ignore_case: bool) -> Vec<Step> {
    glob.tokens()
        .iter()
        .map(|t| match t {
            GlobToken::Literal(c) => Step::Char { c: *c, ignore_case },
            GlobToken::AnyChar => Step::One(class),
            GlobToken::AnyRun => Step::Run(class),
        })
        .collect()
}

/// The one string pattern that decides `Glob::matches_arn` for `glob`. A glob with six
/// segments matches segment by segment: its wildcards stay inside their segment (the resource
/// segment excepted), and since it spells out five colons, a value with fewer matches neither
/// way. Any other glob matches the whole string.
pub fn arn_matcher(glob: &Glob) -> StringPattern {
    let tokens = glob.tokens();
    let colon_positions: Vec<usize> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == GlobToken::Literal(':'))
        .map(|(i, _)| i)
        .take(5)
        .collect();
    if glob.is_match_all() || colon_positions.len() < 5 {
        return StringPattern {
            steps: glob_steps(glob, CharClass::Any),
        };
    }
    let last_colon = colon_positions[4];
    let mut steps = glob_steps(
        &Glob::from_tokens(tokens[..last_colon].to_vec()),
        CharClass::NotColon,
    );
    steps.push(Step::Char {
        c: ':',
        ignore_case: false,
    });
    steps.extend(glob_steps(
        &Glob::from_tokens(tokens[last_colon + 1..].to_vec()),
        CharClass::Any,
    ));
    StringPattern { steps }
}

/// Whether some ARN matches both globs.
pub fn arn_globs_intersect(a: &Glob, b: &Glob) -> bool {
    thread_local! {
        /// The same pairs come back for every principal of a `who-can`.
        static SEEN: std::cell::RefCell<std::collections::HashMap<(Glob, Glob), bool>> = Default::default();
    }
    // Every string either glob matches starts with its literal prefix: prefixes that disagree
    // settle the question at once.
    let (prefix_a, prefix_b) = (literal_prefix(a), literal_prefix(b));
    if !prefix_a.starts_with(&prefix_b) && !prefix_b.starts_with(&prefix_a) {
        return false;
    }
    let key = (a.clone(), b.clone());
    if let Some(known) = SEEN.with(|seen| seen.borrow().get(&key).copied()) {
        return known;
    }
    let answer = regions::patterns_intersect(&arn_matcher(a), &arn_matcher(b));
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if seen.len() > 100_000 {
            seen.clear();
        }
        seen.insert(key, answer);
    });
    answer
}

/// The characters a glob starts with before its first wildcard.
fn literal_prefix(glob: &Glob) -> String {
    glob.tokens()
        .iter()
        .map_while(|t| match t {
            GlobToken::Literal(c) => Some(*c),
            _ => None,
        })
        .collect()
}

impl Problem {
    pub fn new() -> Problem {
        Problem::default()
    }

    /// A resource variable whose value must match every one of `shapes` (ARN globs): a hop on
    /// it is allowed only there.
    pub fn resource_variable(&mut self, call: usize, shapes: &[Glob]) -> VarId {
        let id = self.variables.len();
        let mut variable = Variable {
            name: "resource".into(),
            call,
            slots: 1,
            is_set: false,
            set_tests: 0,
            may_be_absent: false,
            family: Family::Text,
            strings: Vec::new(),
            numbers: Vec::new(),
            dates: Vec::new(),
            networks: Vec::new(),
            within: shapes.to_vec(),
            domain: Domain::Strings(Vec::new()),
        };
        for shape in shapes {
            variable.strings.push(arn_matcher(shape));
        }
        self.variables.push(variable);
        id
    }

    /// The variable of free context key `key` in API call `call`, made on first use.
    fn key_variable(&mut self, call: usize, key: &str) -> VarId {
        let lower = key.to_ascii_lowercase();
        if let Some(&id) = self.keys.get(&(call, lower.clone())) {
            return id;
        }
        let id = self.variables.len();
        self.variables.push(Variable {
            name: key.to_string(),
            call,
            slots: 1,
            is_set: false,
            set_tests: 0,
            may_be_absent: true,
            family: Family::Unused,
            strings: Vec::new(),
            numbers: Vec::new(),
            dates: Vec::new(),
            networks: Vec::new(),
            within: Vec::new(),
            domain: Domain::Strings(Vec::new()),
        });
        self.keys.insert((call, lower), id);
        id
    }

    /// Fixes a free context key of a call to a value given by the user: it then behaves as if
    /// the hop had fixed it.
    pub fn add_hop(&mut self, hop: Hop) -> Result<usize, Unsupported> {
        let index = self.hops.len();
        let statements: Vec<(Statement, PrincipalRule)> = relevant_statements(&hop);
        for (statement, _) in &statements {
            self.register_statement(&hop, statement)?;
        }
        self.hops.push(hop);
        Ok(index)
    }

    fn register_statement(&mut self, hop: &Hop, statement: &Statement) -> Result<(), Unsupported> {
        if let (Some(resource), Term::Var(var)) = (&statement.resource, &hop.resource) {
            for pattern in &resource.patterns {
                check_variables(pattern, hop)?;
                if let Some(glob) = pattern.resolve_glob(&hop.fixed) {
                    let variable = &mut self.variables[*var];
                    if variable
                        .within
                        .iter()
                        .all(|shape| arn_globs_intersect(&glob, shape))
                    {
                        variable.strings.push(arn_matcher(&glob));
                    }
                }
            }
        }
        for condition in &statement.conditions {
            for value in &condition.values {
                check_variables(value, hop)?;
            }
            if !hop.is_free(&condition.key) {
                continue;
            }
            let var = self.key_variable(hop.call, &condition.key);
            if crate::context_model::always_claimed(&condition.key, &hop.action) {
                self.variables[var].may_be_absent = false;
            }
            self.register_condition(var, condition, hop)?;
        }
        Ok(())
    }

    fn register_condition(
        &mut self,
        var: VarId,
        condition: &Condition,
        hop: &Hop,
    ) -> Result<(), Unsupported> {
        let variable = &mut self.variables[var];
        let several = match hop.keys {
            KeyFreedom::Any => may_hold_several(&condition.key),
            KeyFreedom::Chain(_) | KeyFreedom::Fixed => is_set_key(&condition.key),
        };
        if condition.operator.set.is_some() || several {
            // One member per set test is enough: from any set satisfying the tests, keep one
            // witness member for each test that needs one; tests over all members still hold.
            variable.is_set = true;
            variable.set_tests += 1;
            variable.slots = variable.set_tests;
        }
        let family = match condition.operator.kind.family() {
            OperatorFamily::Null => return Ok(()),
            OperatorFamily::String
            | OperatorFamily::Arn
            | OperatorFamily::Bool
            | OperatorFamily::Binary => Family::Text,
            OperatorFamily::Numeric => Family::Number,
            OperatorFamily::Date => Family::Date,
            OperatorFamily::Ip => Family::Ip,
        };
        if variable.family != Family::Unused && variable.family != family {
            return Err(Unsupported(format!(
                "condition key {} is compared both as {:?} and as {:?}",
                condition.key, variable.family, family
            )));
        }
        variable.family = family;
        for value in &condition.values {
            use OperatorKind::*;
            match condition.operator.kind {
                StringLike | StringNotLike => {
                    if let Some(glob) = value.resolve_glob(&hop.fixed) {
                        variable.strings.push(StringPattern {
                            steps: glob_steps(&glob, CharClass::Any),
                        });
                    }
                }
                ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => {
                    if let Some(glob) = value.resolve_glob(&hop.fixed) {
                        variable.strings.push(arn_matcher(&glob));
                    }
                }
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase | Bool => {
                    if let Some(text) = value.resolve_literal(&hop.fixed) {
                        variable.strings.push(StringPattern::literal(&text, true));
                    }
                }
                StringEquals | StringNotEquals | BinaryEquals => {
                    if let Some(text) = value.resolve_literal(&hop.fixed) {
                        variable.strings.push(StringPattern::literal(&text, false));
                    }
                }
                NumericEquals
                | NumericNotEquals
                | NumericLessThan
                | NumericLessThanEquals
                | NumericGreaterThan
                | NumericGreaterThanEquals => {
                    variable.numbers.extend(
                        value
                            .resolve_literal(&hop.fixed)
                            .and_then(|t| parse_number(&t)),
                    );
                }
                DateEquals
                | DateNotEquals
                | DateLessThan
                | DateLessThanEquals
                | DateGreaterThan
                | DateGreaterThanEquals => {
                    variable.dates.extend(
                        value
                            .resolve_literal(&hop.fixed)
                            .and_then(|t| parse_date_millis(&t)),
                    );
                }
                IpAddress | NotIpAddress => {
                    variable.networks.extend(
                        value
                            .resolve_literal(&hop.fixed)
                            .and_then(|t| parse_ip_range(&t)),
                    );
                }
                Null => {}
            }
        }
        Ok(())
    }

    /// The variable of a free context key of `call` that a service rule (not a policy) tests,
    /// with the literal values the rule distinguishes.
    pub fn rule_variable(&mut self, call: usize, key: &str, literals: &[&str]) -> VarId {
        let var = self.key_variable(call, key);
        let variable = &mut self.variables[var];
        if variable.family == Family::Unused {
            variable.family = Family::Text;
        }
        variable
            .strings
            .extend(literals.iter().map(|l| StringPattern::literal(l, false)));
        var
    }

    /// The variable of free key `key` in `call`, if any policy or rule made one.
    pub fn variable_of(&self, call: usize, key: &str) -> Option<VarId> {
        self.keys.get(&(call, key.to_ascii_lowercase())).copied()
    }

    /// The regions of a scalar variable (absent as `None`) on which `holds` is true.
    pub fn where_value(&self, var: VarId, holds: impl Fn(Option<&str>) -> bool) -> Formula {
        let variable = &self.variables[var];
        let values: BTreeSet<i64> = self
            .slot_values(var)
            .filter(|&v| {
                let witness =
                    (v != ABSENT).then(|| variable.domain.witness(v as usize).unwrap_or_default());
                holds(witness.as_deref())
            })
            .collect();
        Formula::within(Slot { var, index: 0 }, values, variable.domain.len())
    }

    /// Adds the string globs of a query (such as the `--resource` pattern) to a variable's regions.
    pub fn separate(&mut self, var: VarId, globs: &[Glob]) {
        for glob in globs {
            self.variables[var].strings.push(arn_matcher(glob));
        }
    }

    /// Values to show for free key `key` where they fall in a region, instead of its shortest
    /// member (`s3.us-east-1.amazonaws.com` rather than `s3..amazonaws.com`). A value stands
    /// for a region only when every test of the key treats it as the region's witness, so the
    /// answers do not change, only how witnesses read.
    pub fn prefer(&mut self, key: &str, values: std::sync::Arc<[String]>) {
        self.preferred.insert(key.to_ascii_lowercase(), values);
    }

    /// Keeps the values of a date key within `[low, high]` (milliseconds): its regions are cut
    /// at both bounds, and [`Problem::windows_hold`] says the value lies between them.
    pub fn date_window(&mut self, key: &str, low: i64, high: i64) {
        self.windows.insert(key.to_ascii_lowercase(), (low, high));
    }

    /// The formula "every windowed date key that is present lies within its window".
    pub fn windows_hold(&self) -> Formula {
        Formula::and(
            self.variables
                .iter()
                .enumerate()
                .filter_map(|(var, variable)| {
                    let (low, high) = *self.windows.get(&variable.name.to_ascii_lowercase())?;
                    (variable.family == Family::Date).then(|| {
                        self.where_value(var, |value| {
                            value
                                .and_then(parse_date_millis)
                                .is_none_or(|t| (low..=high).contains(&t))
                        })
                    })
                }),
        )
    }

    /// Computes every variable's regions. Call once, after the last hop.
    pub fn finish(&mut self) -> Result<(), Unsupported> {
        for variable in &mut self.variables {
            if let Some((low, high)) = self.windows.get(&variable.name.to_ascii_lowercase()) {
                if variable.family == Family::Date {
                    variable.dates.extend([*low, *high]);
                }
            }
            variable.domain = match variable.family {
                Family::Unused | Family::Text => {
                    let mut witnesses = regions::string_regions(&variable.strings)
                        .map_err(|e| Unsupported(format!("{}: {e}", variable.name)))?;
                    if let Some(values) = self.preferred.get(&variable.name.to_ascii_lowercase()) {
                        prefer_witnesses(&mut witnesses, &variable.strings, values);
                    }
                    Domain::Strings(witnesses)
                }
                Family::Number => Domain::Numbers(regions::number_regions(&variable.numbers)),
                Family::Date => Domain::Dates(regions::date_regions(&variable.dates)),
                Family::Ip => Domain::Ips(regions::ip_regions(&variable.networks)),
            };
        }
        Ok(())
    }

    fn slot_values(&self, var: VarId) -> impl Iterator<Item = i64> {
        let variable = &self.variables[var];
        let start = if variable.may_be_absent { ABSENT } else { 0 };
        start..variable.domain.len() as i64
    }

    /// The hop's context for a chosen region of one variable (all other free keys absent).
    fn context_with(&self, hop: &Hop, var: VarId, values: &[i64]) -> Context {
        let mut context = hop.fixed.clone();
        let variable = &self.variables[var];
        let members: Vec<String> = values
            .iter()
            .filter(|&&v| v != ABSENT)
            .filter_map(|&v| variable.domain.witness(v as usize))
            .collect();
        if !members.is_empty() {
            let value = if variable.is_set {
                ContextValue::Multi(members)
            } else {
                ContextValue::Single(members[0].clone())
            };
            context.insert(&variable.name, value);
        }
        context
    }

    /// The formula of one condition of a statement in a hop.
    fn condition_formula(&self, hop: &Hop, condition: &Condition) -> Formula {
        let var = self
            .keys
            .get(&(hop.call, condition.key.to_ascii_lowercase()))
            .copied();
        let Some(var) = var.filter(|_| hop.is_free(&condition.key)) else {
            return Formula::Const(condition.holds(&hop.fixed));
        };
        let variable = &self.variables[var];
        let size = variable.domain.len();
        let slot = |index| Slot { var, index };
        if !variable.is_set {
            let holding: BTreeSet<i64> = self
                .slot_values(var)
                .filter(|&v| condition.holds(&self.context_with(hop, var, &[v])))
                .collect();
            return Formula::within(slot(0), holding, size);
        }
        // A set: its members are the non-empty slots.
        let all_empty = Formula::and(
            (0..variable.slots).map(|i| Formula::In(slot(i), BTreeSet::from([ABSENT]))),
        );
        let when_absent = Formula::Const(condition.holds(&hop.fixed));
        let member_holds = |i: usize| {
            let values: BTreeSet<i64> = (0..size as i64)
                .filter(|&v| {
                    let context = self.context_with(hop, var, &[v]);
                    let witness = variable.domain.witness(v as usize).unwrap_or_default();
                    if condition.operator.kind == OperatorKind::Null {
                        condition.holds(&context)
                    } else {
                        condition.value_holds(&witness, &context)
                    }
                })
                .collect();
            Formula::within(slot(i), values, size)
        };
        let empty = |i: usize| Formula::In(slot(i), BTreeSet::from([ABSENT]));
        let every_member = condition.operator.kind == OperatorKind::Null
            || condition.operator.set == Some(SetQualifier::ForAllValues)
            || (condition.operator.set.is_none() && condition.operator.kind.is_negated());
        let present = if every_member {
            Formula::and((0..variable.slots).map(|i| Formula::or([empty(i), member_holds(i)])))
        } else {
            Formula::or(
                (0..variable.slots)
                    .map(|i| Formula::and([Formula::not(empty(i)), member_holds(i)])),
            )
        };
        Formula::or([
            Formula::and([all_empty.clone(), when_absent]),
            Formula::and([Formula::not(all_empty), present]),
        ])
    }

    fn resource_formula(&self, hop: &Hop, statement: &Statement) -> Formula {
        let Some(element) = &statement.resource else {
            return Formula::TRUE;
        };
        match hop.resource {
            Term::Fixed(ref resource) => Formula::Const(element.covers(resource, &hop.fixed)),
            Term::Var(var) => {
                let size = self.variables[var].domain.len();
                let values: BTreeSet<i64> = (0..size as i64)
                    .filter(|&v| {
                        let witness = self.variables[var]
                            .domain
                            .witness(v as usize)
                            .unwrap_or_default();
                        element.covers(&witness, &hop.fixed)
                    })
                    .collect();
                Formula::within(Slot { var, index: 0 }, values, size)
            }
        }
    }

    fn statement_formula(&self, hop: &Hop, statement: &Statement) -> Formula {
        Formula::and(
            std::iter::once(self.resource_formula(hop, statement)).chain(
                statement
                    .conditions
                    .iter()
                    .map(|c| self.condition_formula(hop, c)),
            ),
        )
    }

    /// The formula "hop `index` is allowed", mirroring [`crate::eval::evaluate`], on the
    /// resources its variable may take.
    pub fn allowed(&self, index: usize) -> Formula {
        let hop = &self.hops[index];
        let decision = self.decision(index);
        match &hop.resource {
            Term::Var(var) => Formula::and([self.within_shapes(*var), decision]),
            // IAM refuses edits of reserved roles whatever the policies say.
            Term::Fixed(resource)
                if crate::service::technique::refusal(&hop.action, resource).is_some() =>
            {
                Formula::FALSE
            }
            Term::Fixed(_) => decision,
        }
    }

    /// The regions of a resource variable that match every glob it must match.
    fn within_shapes(&self, var: VarId) -> Formula {
        let variable = &self.variables[var];
        let size = variable.domain.len();
        let values: BTreeSet<i64> = (0..size)
            .filter(|&v| {
                let witness = variable.domain.witness(v).unwrap_or_default();
                variable
                    .within
                    .iter()
                    .all(|shape| shape.matches_arn(&witness))
            })
            .map(|v| v as i64)
            .collect();
        Formula::within(Slot { var, index: 0 }, values, size)
    }

    /// The evaluator's decision for hop `index` as a formula.
    fn decision(&self, index: usize) -> Formula {
        let hop = &self.hops[index];
        let facts = HopFacts::of(hop, self.concrete_resource(hop));
        if facts.always_allowed {
            return Formula::TRUE;
        }
        let policies = &hop.policies;
        let mut denies = Vec::new();
        let mut side = |policies: &[crate::eval::NamedPolicy],
                        rule: PrincipalRule|
         -> Vec<(Formula, Option<PrincipalMatch>)> {
            let mut allows = Vec::new();
            for named in policies {
                for statement in &named.policy.statements {
                    let Some(strength) =
                        statement_prefilter(statement, hop, rule, facts.has_boundary)
                    else {
                        continue;
                    };
                    let formula = self.statement_formula(hop, statement);
                    match statement.effect {
                        Effect::Deny => denies.push(formula),
                        Effect::Allow => allows.push((formula, strength)),
                    }
                }
            }
            allows
        };
        let any = |allows: &[(Formula, Option<PrincipalMatch>)]| {
            Formula::or(allows.iter().map(|(f, _)| f.clone()))
        };

        let scp_levels: Vec<Formula> = if facts.scps_apply {
            policies
                .scps
                .iter()
                .map(|level| any(&side(level, PrincipalRule::Ignored)))
                .collect()
        } else {
            Vec::new()
        };
        if facts.rcps_apply {
            for level in &policies.rcps {
                side(level, PrincipalRule::Required);
            }
        }
        let endpoints: Vec<Formula> = policies
            .endpoints
            .iter()
            .map(|p| {
                any(&side(
                    std::slice::from_ref(p),
                    PrincipalRule::DefaultsToEveryone,
                ))
            })
            .collect();
        let resource_allows = side(policies.resource.as_slice(), PrincipalRule::Required);
        let (identity, boundary, session) = if facts.iam_caller {
            let identity = any(&side(&policies.identity, PrincipalRule::Ignored));
            let boundary = if policies.boundaries.is_empty() {
                Formula::TRUE
            } else {
                Formula::and(
                    policies
                        .boundaries
                        .iter()
                        .map(|b| any(&side(std::slice::from_ref(b), PrincipalRule::Ignored))),
                )
            };
            let session = match &policies.session {
                Some(p) => any(&side(std::slice::from_ref(p), PrincipalRule::Ignored)),
                None => Formula::TRUE,
            };
            (
                if facts.root_caller {
                    Formula::TRUE
                } else {
                    identity
                },
                boundary,
                session,
            )
        } else {
            (Formula::FALSE, Formula::TRUE, Formula::TRUE)
        };
        let no_deny = Formula::not(Formula::or(denies));
        if facts.never_allowed {
            return Formula::FALSE;
        }
        let grants = |wanted: &dyn Fn(PrincipalMatch) -> bool| {
            Formula::or(
                resource_allows
                    .iter()
                    .filter(|(_, strength)| strength.is_some_and(wanted))
                    .map(|(f, _)| f.clone()),
            )
        };
        let any_grant = grants(&|_| true);
        let caps = Formula::and([boundary, session]);
        let grant = if !facts.iam_caller {
            any_grant
        } else if facts.cross_account {
            Formula::and([any_grant, identity, caps])
        } else {
            let strong = grants(&|m| m >= PrincipalMatch::Everyone);
            let role = grants(&|m| m == PrincipalMatch::Role);
            let account = grants(&|m| m == PrincipalMatch::Account);
            let via_identity = if facts.needs_resource_grant {
                Formula::and([account, identity, caps.clone()])
            } else {
                Formula::and([identity, caps.clone()])
            };
            Formula::or([strong, Formula::and([role, caps]), via_identity])
        };
        Formula::and(
            std::iter::once(no_deny)
                .chain(scp_levels)
                .chain(endpoints)
                .chain(std::iter::once(grant)),
        )
    }

    /// A stand-in resource for classification when the resource is a variable: its shape
    /// (service and resource type) is fixed by the question, so any region witness will do.
    fn concrete_resource(&self, hop: &Hop) -> String {
        match &hop.resource {
            Term::Fixed(resource) => resource.clone(),
            Term::Var(var) => self.variables[*var].domain.witness(0).unwrap_or_default(),
        }
    }

    /// The concrete value of every variable slot under `assignment`, as the context and
    /// resource of hop `index`.
    pub fn concretize(&self, index: usize, value_of: &dyn Fn(Slot) -> i64) -> (String, Context) {
        let hop = &self.hops[index];
        let resource = match &hop.resource {
            Term::Fixed(resource) => resource.clone(),
            Term::Var(var) => self.variables[*var]
                .domain
                .witness(
                    value_of(Slot {
                        var: *var,
                        index: 0,
                    })
                    .max(0) as usize,
                )
                .unwrap_or_default(),
        };
        let mut context = hop.fixed.clone();
        for (&(call, _), &var) in &self.keys {
            if call != hop.call {
                continue;
            }
            let variable = &self.variables[var];
            let values: Vec<i64> = (0..variable.slots)
                .map(|index| value_of(Slot { var, index }))
                .collect();
            let with = self.context_with(hop, var, &values);
            if let Some(value) = with.get(&variable.name) {
                context.insert(&variable.name, value.clone());
            }
        }
        (resource, context)
    }
}

/// Replaces the witness of each region that one of `values` falls in (the first such value)
/// by that value: the region of a value is the one whose witness every pattern treats alike.
fn prefer_witnesses(witnesses: &mut [String], patterns: &[StringPattern], values: &[String]) {
    let signature =
        |text: &str| -> Vec<bool> { patterns.iter().map(|p| p.accepts_text(text)).collect() };
    let mut replaced = vec![false; witnesses.len()];
    for value in values {
        let wanted = signature(value);
        if let Some(index) =
            (0..witnesses.len()).find(|&i| !replaced[i] && signature(&witnesses[i]) == wanted)
        {
            witnesses[index] = value.clone();
            replaced[index] = true;
        }
    }
}

/// Concrete facts about a hop that select the branch of the evaluation logic.
struct HopFacts {
    always_allowed: bool,
    never_allowed: bool,
    iam_caller: bool,
    root_caller: bool,
    scps_apply: bool,
    rcps_apply: bool,
    has_boundary: bool,
    cross_account: bool,
    needs_resource_grant: bool,
}

impl HopFacts {
    fn of(hop: &Hop, resource: String) -> HopFacts {
        let request = crate::eval::Request {
            principal: hop.principal.clone(),
            action: hop.action.clone(),
            resource,
            resource_account: hop.resource_account.clone(),
            context: Context::new(),
        };
        let kind = classify(&request);
        let service = hop
            .action
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let iam_caller = matches!(hop.principal, Principal::Aws(_));
        HopFacts {
            always_allowed: hop.action.eq_ignore_ascii_case("sts:GetCallerIdentity"),
            never_allowed: matches!(
                kind,
                ResourceKind::KmsAwsManagedAlias | ResourceKind::AwsManagedPolicyWrite
            ),
            iam_caller,
            root_caller: matches!(&hop.principal, Principal::Aws(p) if p.kind == AwsPrincipalKind::Root),
            scps_apply: iam_caller,
            rcps_apply: RCP_SERVICES.contains(&service.as_str()),
            has_boundary: iam_caller && !hop.policies.boundaries.is_empty(),
            cross_account: request.is_cross_account(),
            needs_resource_grant: matches!(kind, ResourceKind::KmsKey | ResourceKind::RoleTrust),
        }
    }
}

/// The concrete part of "does this statement apply": action and principal. `None` when it
/// cannot apply; otherwise the principal match strength (for principal-bearing policies).
fn statement_prefilter(
    statement: &Statement,
    hop: &Hop,
    rule: PrincipalRule,
    has_boundary: bool,
) -> Option<Option<PrincipalMatch>> {
    if !statement.action.covers(&hop.action) {
        return None;
    }
    principal_applies(statement, &hop.principal, rule, has_boundary)
}

/// Every statement of the hop's policies that may apply, with its principal rule.
fn relevant_statements(hop: &Hop) -> Vec<(Statement, PrincipalRule)> {
    let p = &hop.policies;
    let iam_caller = matches!(hop.principal, Principal::Aws(_));
    let has_boundary = iam_caller && !p.boundaries.is_empty();
    let mut groups: Vec<(&crate::eval::NamedPolicy, PrincipalRule)> = Vec::new();
    if iam_caller {
        for policy in p
            .identity
            .iter()
            .chain(&p.boundaries)
            .chain(&p.session)
            .chain(p.scps.iter().flatten())
        {
            groups.push((policy, PrincipalRule::Ignored));
        }
    }
    for policy in p.rcps.iter().flatten().chain(&p.resource) {
        groups.push((policy, PrincipalRule::Required));
    }
    for policy in &p.endpoints {
        groups.push((policy, PrincipalRule::DefaultsToEveryone));
    }
    groups
        .into_iter()
        .flat_map(|(policy, rule)| {
            policy
                .policy
                .statements
                .iter()
                .filter(move |s| statement_prefilter(s, hop, rule, has_boundary).is_some())
                .map(move |s| (s.clone(), rule))
        })
        .collect()
}

/// A policy variable that refers to a value the caller chooses cannot be substituted.
fn check_variables(template: &Template, hop: &Hop) -> Result<(), Unsupported> {
    for part in template.parts() {
        if let TemplatePart::Variable { key, .. } = part {
            if hop.is_free(key) {
                return Err(Unsupported(format!(
                    "policy variable ${{{key}}} refers to a value the caller chooses ({})",
                    template.raw()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_values_stand_for_their_regions_only() {
        let any_region = text_pattern(&Glob::parse("s3.*.amazonaws.com"), false);
        let virginia = StringPattern::literal("s3.us-east-1.amazonaws.com", false);
        let patterns = [any_region, virginia];
        let mut witnesses = regions::string_regions(&patterns).unwrap();
        assert!(witnesses.contains(&"s3..amazonaws.com".to_string()));
        let before = witnesses.len();
        let preferred = [
            "s3.us-east-1.amazonaws.com".to_string(),
            "s3.us-west-2.amazonaws.com".to_string(),
            "s3.eu-west-1.amazonaws.com".to_string(),
        ];
        prefer_witnesses(&mut witnesses, &patterns, &preferred);
        assert_eq!(witnesses.len(), before);
        // Each region keeps one witness with its own outcome on every pattern.
        assert!(witnesses.contains(&"s3.us-east-1.amazonaws.com".to_string()));
        assert!(witnesses.contains(&"s3.us-west-2.amazonaws.com".to_string()));
        assert!(!witnesses.contains(&"s3..amazonaws.com".to_string()));
        assert!(!witnesses.contains(&"s3.eu-west-1.amazonaws.com".to_string()));
        let signatures: std::collections::BTreeSet<Vec<bool>> = witnesses
            .iter()
            .map(|w| patterns.iter().map(|p| p.accepts_text(w)).collect())
            .collect();
        assert_eq!(signatures.len(), witnesses.len());
    }

    #[test]
    fn arn_regions_contain_a_matching_witness() {
        let glob = Glob::parse("arn:aws:mediaconvert:*:111122223333:queues/*");
        let witnesses = regions::string_regions(&[arn_matcher(&glob)]).unwrap();
        assert!(
            witnesses.iter().any(|w| glob.matches_arn(w)),
            "{witnesses:?}"
        );
    }
}
