//! Questions in, verdicts and witnesses out: `can`, `who-can` and `prove`.
//!
//! The graph proposes chains, the solver decides them. For one principal, every chain of the
//! delegation graph (the principal itself, roles it may assume, roles it may pass to
//! MediaConvert) is combined with every place the resource may be; each combination is one
//! solver query whose hops share the context of one API call. The first satisfiable
//! combination, shortest chain first, is the witness; it is replayed hop by hop through the
//! concrete evaluator before it is reported. When none is satisfiable the answer is
//! `unreachable`, unless something the model does not cover (an unresolved policy, an
//! unsupported construct, a solver timeout) could have changed that, which makes it `unknown`.

pub mod chain;
pub mod prove;
pub mod targets;

use crate::eval::{evaluate, MatchedStatement};
use crate::graph::DelegationGraph;
use crate::model::Model;
use crate::policy::pattern::Glob;
use crate::policy::Context;
use serde::Serialize;

/// How long the solver may think about one chain.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// The longest chain of role assumptions explored.
pub const MAX_CHAIN_STEPS: usize = 4;

/// One question: can `principal` cause `action` on some resource matching `resource`?
#[derive(Debug, Clone)]
pub struct Question {
    pub principal: String,
    pub action: String,
    pub resource: String,
    /// Context keys the user fixed with `--context`; every other free key is the solver's.
    pub context: Context,
}

/// The three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Reachable,
    Unreachable,
    Unknown,
}

/// A statement a hop of a witness rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowedBy {
    pub policy: String,
    pub statement: String,
}

impl From<&MatchedStatement> for AllowedBy {
    fn from(m: &MatchedStatement) -> AllowedBy {
        AllowedBy {
            policy: m.policy.clone(),
            statement: m.statement.clone(),
        }
    }
}

/// One request of a witness chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub principal: String,
    pub action: String,
    pub resource: String,
    pub context: serde_json::Value,
    pub allowed_by: Vec<AllowedBy>,
}

/// The query as the answer echoes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryEcho {
    pub principal: String,
    pub action: String,
    pub resource: String,
}

/// The answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub verdict: Verdict,
    pub query: QueryEcho,
    pub chain: Vec<Link>,
    pub assumptions: Vec<String>,
    pub reason: Option<String>,
}

/// A question that cannot be asked of this model (exit code 2 at the CLI).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("principal {0} is not a user or role of the loaded snapshots")]
    UnknownPrincipal(String),
    #[error("action {0:?} is not service:Action (wildcards are not supported in --action)")]
    BadAction(String),
    #[error("context {0:?} is not KEY=VALUE")]
    BadContext(String),
}

/// Options of the engine.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout_ms: u32,
    pub max_steps: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            max_steps: MAX_CHAIN_STEPS,
        }
    }
}

/// The engine over one model: the graph is built once and shared by all questions.
pub struct Engine<'m> {
    pub model: &'m Model,
    pub graph: DelegationGraph,
    pub options: Options,
}

impl<'m> Engine<'m> {
    pub fn new(model: &'m Model, options: Options) -> Engine<'m> {
        Engine {
            model,
            graph: DelegationGraph::build(model),
            options,
        }
    }

    /// Answers one question.
    pub fn can(&self, question: &Question) -> Result<Answer, QueryError> {
        let action = &question.action;
        if action.contains('*')
            || action.contains('?')
            || action
                .split_once(':')
                .is_none_or(|(s, a)| s.is_empty() || a.is_empty())
        {
            return Err(QueryError::BadAction(action.clone()));
        }
        if self.model.principal_type(&question.principal).is_none() {
            return Err(QueryError::UnknownPrincipal(question.principal.clone()));
        }
        let pattern = Glob::parse(&question.resource);
        let chains = self
            .graph
            .chains(&question.principal, self.options.max_steps);
        let mut search = chain::Search::new(self, question, &pattern);
        for steps in &chains {
            if let Some(answer) = search.try_chain(steps) {
                return Ok(answer);
            }
        }
        Ok(search.conclude())
    }
}

/// Replays a chain of requests through the concrete evaluator: every hop must be allowed.
pub fn replay(
    requests: &[(crate::eval::Request, crate::eval::PolicySet)],
) -> Result<Vec<Vec<AllowedBy>>, String> {
    requests
        .iter()
        .enumerate()
        .map(|(i, (request, policies))| {
            let evaluation = evaluate(request, policies);
            if evaluation.decision == crate::eval::Decision::Allowed {
                Ok(evaluation.allowed_by.iter().map(AllowedBy::from).collect())
            } else {
                Err(format!(
                    "hop {} ({} {} on {}) replays as {:?}: {}",
                    i + 1,
                    request.principal.to_text(),
                    request.action,
                    request.resource,
                    evaluation.decision,
                    evaluation.reason
                ))
            }
        })
        .collect()
}

/// Parses `KEY=VALUE` pairs of `--context`; a value in brackets, `[a,b]`, is a set.
pub fn parse_context(pairs: &[String]) -> Result<Context, QueryError> {
    let mut context = Context::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| QueryError::BadContext(pair.clone()))?;
        if key.is_empty() {
            return Err(QueryError::BadContext(pair.clone()));
        }
        let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(list) => crate::policy::ContextValue::Multi(
                list.split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim().to_string())
                    .collect(),
            ),
            None => crate::policy::ContextValue::Single(value.to_string()),
        };
        context.insert(key, value);
    }
    Ok(context)
}
