//! The `iamproof` command line: argument parsing and exit codes. The work happens in the library.

mod terminal;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use iamproof::input::{parse_json, InputError};
use iamproof::model::Model;
use iamproof::{inspect, simulate};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use terminal::Ui;

#[derive(Parser)]
#[command(
    name = "iamproof",
    version,
    about = "Proves or refutes who can reach what in AWS accounts"
)]
struct Cli {
    /// Print nothing on standard error but errors: no progress, no notes.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print what was loaded, every loader warning, and how long each stage took.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Threads that `who-can` and `only` proofs spread principals over (default: the cores
    /// of the machine); answers are the same whatever the number.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

/// `--threads`, for every engine of the run.
static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum TextOrJson {
    Text,
    Json,
}

/// `prove` also speaks the report formats of CI: JUnit test reports and SARIF code scanning.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ProveFormat {
    Text,
    Json,
    Junit,
    Sarif,
    /// A summary for a pull-request comment.
    Markdown,
}

/// `can`, `who-can` and `what-if` also write Markdown, for a pull-request comment.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
}

/// How a question is answered and written out (`can`, `who-can` and `what-if`).
#[derive(clap::Args)]
struct AnswerArgs {
    #[command(flatten)]
    how: Answering,
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

/// How a question is answered: context it fixes, solver timeout, instant, scope (`can`,
/// `who-can`, `what-if` and `sweep`).
#[derive(clap::Args)]
struct Answering {
    /// Fix a context key (KEY=VALUE; `KEY=[a,b]` for a set); other keys are free.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Solver timeout per chain, in milliseconds.
    #[arg(long, default_value_t = iamproof::query::DEFAULT_TIMEOUT_MS)]
    timeout_ms: u32,
    /// The instant every question is asked at (`aws:CurrentTime`), such as
    /// 2026-12-03T17:00:00Z; default: when the snapshots were collected, else now.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    at: Option<Instant>,
    /// Which ways of becoming another principal to search: `all` (every technique, the
    /// escalations that edit the account or run code as a role included) or `configured`
    /// (groups, role assumption and MediaConvert jobs only).
    #[arg(long, value_enum, default_value = "all")]
    scope: ScopeArg,
}

impl Answering {
    /// The engine's options.
    fn options(&self) -> iamproof::query::Options {
        question_options(self.timeout_ms, self.at, self.scope)
    }
}

/// `--scope`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ScopeArg {
    All,
    Configured,
}

impl From<ScopeArg> for iamproof::query::Scope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::All => iamproof::query::Scope::All,
            ScopeArg::Configured => iamproof::query::Scope::Configured,
        }
    }
}

/// Where the model comes from: snapshots, Terraform plans, CloudFormation templates.
#[derive(clap::Args, Clone, Default)]
struct SourceArgs {
    /// A snapshot folder (AWS CLI output of one account); repeat for several accounts.
    #[arg(long = "account", value_name = "DIR")]
    accounts: Vec<PathBuf>,
    /// A Terraform plan as `terraform show -json PLAN` prints it (or a state): alone, the
    /// account it would leave; with --account, its changes made to the snapshots. Repeatable.
    #[arg(long = "terraform", value_name = "PLAN.json")]
    terraform: Vec<PathBuf>,
    /// A CloudFormation template (JSON or YAML): alone, the account the stack would leave;
    /// with --account, its resources made in the snapshots. Repeatable.
    #[arg(long = "template", value_name = "TEMPLATE")]
    templates: Vec<PathBuf>,
    /// The account plans and templates act in, when they do not say and no single snapshot
    /// is given.
    #[arg(long = "account-id", value_name = "ID")]
    account_id: Option<String>,
    /// A template parameter's value, over its default; repeatable.
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    parameters: Vec<String>,
    /// The stack's name: `AWS::StackName`, and the start of the names CloudFormation chooses.
    #[arg(long = "stack-name", value_name = "NAME")]
    stack_name: Option<String>,
    /// The region a template is deployed in (`AWS::Region`), when no single snapshot tells.
    #[arg(long = "region", value_name = "REGION")]
    region: Option<String>,
}

impl SourceArgs {
    /// What to load, or a usage error.
    fn sources(&self) -> Result<iamproof::sources::Sources, ExitCode> {
        let mut parameters = std::collections::BTreeMap::new();
        for pair in &self.parameters {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(usage_error(&format!(
                    "--parameter {pair}: expected KEY=VALUE"
                )));
            };
            parameters.insert(key.to_string(), value.to_string());
        }
        Ok(iamproof::sources::Sources {
            accounts: self.accounts.clone(),
            terraform: self.terraform.clone(),
            templates: self.templates.clone(),
            inputs: iamproof::cloudformation::TemplateInputs {
                account: self.account_id.clone(),
                parameters,
                stack_name: self.stack_name.clone(),
                region: self.region.clone(),
            },
        })
    }

    /// What to load for a question: at least one source.
    fn required(&self) -> Result<iamproof::sources::Sources, ExitCode> {
        let sources = self.sources()?;
        if sources.is_empty() {
            return Err(usage_error(
                "give --account DIR, --terraform PLAN.json or --template TEMPLATE",
            ));
        }
        Ok(sources)
    }
}

/// What `can` and `who-can` share: the snapshots and the question.
#[derive(clap::Args)]
struct QuestionArgs {
    #[command(flatten)]
    sources: SourceArgs,
    /// The action, such as s3:PutObject.
    #[arg(long)]
    action: String,
    /// The resource pattern (`*` and `?` as in IAM).
    #[arg(long)]
    resource: String,
    #[command(flatten)]
    answering: AnswerArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate one request concretely, like the AWS policy simulator.
    Simulate {
        /// The request file (JSON; NDJSON with --batch); `-` or nothing for standard input.
        file: Option<String>,
        /// Read one request per line and print one result per line.
        #[arg(long)]
        batch: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// Can a principal cause an action on a resource, directly or through any delegation chain?
    Can {
        /// The user or role ARN.
        #[arg(long)]
        principal: String,
        #[command(flatten)]
        question: QuestionArgs,
    },
    /// Every user and role that can cause an action on a resource, each with its shortest chain.
    WhoCan {
        #[command(flatten)]
        question: QuestionArgs,
    },
    /// Check proof files; the exit code is the CI gate.
    Prove {
        /// Proof files (JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Solver timeout per chain, in milliseconds.
        #[arg(long, default_value_t = iamproof::query::DEFAULT_TIMEOUT_MS)]
        timeout_ms: u32,
        /// The instant every question is asked at (`aws:CurrentTime`), such as
        /// 2026-12-03T17:00:00Z; default: when the snapshots were collected, else now.
        #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
        at: Option<Instant>,
        /// Which ways of becoming another principal proofs search, unless a proof says
        /// (`"scope"`): `all` or `configured`.
        #[arg(long, value_enum, default_value = "all")]
        scope: ScopeArg,
        /// A Terraform plan (`terraform show -json PLAN`) whose changes are made to every
        /// proof file's accounts before its proofs are checked; repeatable.
        #[arg(long = "terraform", value_name = "PLAN.json")]
        terraform: Vec<PathBuf>,
        /// Accepted findings, each with its reason (docs/proof-files.md): the gate fails only
        /// on what is new.
        #[arg(long, value_name = "BASELINE.json")]
        baseline: Option<PathBuf>,
        /// Check only shard K of N: the proofs of all files, in order, cut into N contiguous
        /// blocks. With --format json, the report is one that `merge-shards` reads.
        #[arg(long, value_name = "K/N", value_parser = iamproof::shard::Shard::parse)]
        shard: Option<iamproof::shard::Shard>,
        #[arg(long, value_enum, default_value = "text")]
        format: ProveFormat,
    },
    /// Merge the JSON reports of `prove --shard K/N` (one per shard) into the report and the
    /// exit code of one `prove` run; run it where the shards ran.
    MergeShards {
        /// The reports of `prove --shard K/N --format json`, every K once, in any order.
        #[arg(required = true, value_name = "SHARD.json")]
        reports: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: ProveFormat,
    },
    /// Apply a change to a copy of the model and show each answer before and after.
    WhatIf(WhatIfArgs),
    /// Does NEW allow any request that OLD does not? Exit 1 with one such request if so.
    Compare {
        /// The policy in force (identity or resource policy, JSON; `-` for standard input).
        old: String,
        /// The proposed policy, of the same kind (`-` for standard input).
        new: String,
        /// Solver timeout per action class, in milliseconds.
        #[arg(long, default_value_t = iamproof::query::DEFAULT_TIMEOUT_MS)]
        timeout_ms: u32,
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// Load account snapshots and show what they hold, every warning, and optionally the
    /// policies in force for one principal.
    Inspect {
        /// A snapshot folder (AWS CLI output of one account); repeat for several accounts.
        #[arg(long = "account", value_name = "DIR", required = true)]
        accounts: Vec<PathBuf>,
        /// Also show the policies in force for this user or role ARN.
        #[arg(long, value_name = "ARN")]
        principal: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: TextOrJson,
    },
    /// Draw who reaches which buckets and keys, and through which roles and services; every
    /// edge is a hop of a verified witness.
    Graph(GraphArgs),
    /// Who can read, write or decrypt every bucket and key: one `who-can` per bucket or key
    /// and access, as a table, JSON, CSV, or a proof file that pins today's access.
    Sweep(SweepArgs),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

/// Exit code 2: bad input or usage.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    // The version line names the z3 library too: answers depend on it.
    let version = format!(
        "{} (z3 {})",
        env!("CARGO_PKG_VERSION"),
        iamproof::smt::solve::z3_version()
    );
    let version: &'static str = Box::leak(version.into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let ui = Ui::new(cli.quiet, cli.verbose);
    if let Some(threads) = cli.threads {
        THREADS.get_or_init(|| usize::from(threads));
    }
    let code = run(cli.command, &ui);
    ui.finish();
    code
}

fn run(command: Command, ui: &Ui) -> ExitCode {
    match command {
        Command::Simulate {
            file,
            batch,
            format,
        } => run_simulate(file.as_deref(), batch, format),
        Command::Can {
            principal,
            question,
        } => run_can(principal, &question, ui),
        Command::WhoCan { question } => run_who_can(&question, ui),
        Command::Prove {
            files,
            timeout_ms,
            at,
            scope,
            terraform,
            baseline,
            shard,
            format,
        } => run_prove(
            &files,
            &terraform,
            baseline.as_deref(),
            shard,
            question_options(timeout_ms, at, scope),
            format,
            ui,
        ),
        Command::MergeShards { reports, format } => run_merge_shards(&reports, format),
        Command::WhatIf(args) => run_what_if(args, ui),
        Command::Compare {
            old,
            new,
            timeout_ms,
            format,
        } => run_compare(&old, &new, timeout_ms, format),
        Command::Inspect {
            accounts,
            principal,
            format,
        } => run_inspect(&accounts, principal.as_deref(), format, ui),
        Command::Graph(args) => run_graph(args, ui),
        Command::Sweep(args) => run_sweep(args, ui),
    }
}

/// The arguments of `graph`.
#[derive(clap::Args)]
struct GraphArgs {
    #[command(flatten)]
    sources: SourceArgs,
    /// Draw only the paths to resources matching this pattern (`*` and `?` as in IAM).
    #[arg(long, value_name = "PATTERN")]
    resource: Option<String>,
    /// An action to draw; repeat for several. Default: s3:GetObject, s3:PutObject,
    /// kms:Decrypt and kms:GenerateDataKey (those of the pattern's service).
    #[arg(long = "action", value_name = "ACTION")]
    actions: Vec<String>,
    /// Draw every bucket and key (or every one --resource matches) however many there are.
    #[arg(long)]
    all: bool,
    /// Solver timeout per chain, in milliseconds.
    #[arg(long, default_value_t = iamproof::query::DEFAULT_TIMEOUT_MS)]
    timeout_ms: u32,
    /// The instant every question is asked at (`aws:CurrentTime`), such as
    /// 2026-12-03T17:00:00Z; default: when the snapshots were collected, else now.
    #[arg(long, value_name = "INSTANT", value_parser = parse_instant)]
    at: Option<Instant>,
    /// Which ways of becoming another principal to draw: `all` or `configured`.
    #[arg(long, value_enum, default_value = "all")]
    scope: ScopeArg,
    #[arg(long, value_enum, default_value = "dot")]
    format: GraphFormat,
}

fn run_graph(args: GraphArgs, ui: &Ui) -> ExitCode {
    let model = match args
        .sources
        .required()
        .and_then(|sources| ui.load_sources(&sources))
    {
        Ok(model) => model,
        Err(code) => return code,
    };
    let engine = ui.engine(
        &model,
        question_options(args.timeout_ms, args.at, args.scope),
    );
    let scope = iamproof::diagram::Scope {
        resource: args.resource,
        actions: args.actions,
        all: args.all,
    };
    let diagram = match iamproof::diagram::build(&engine, &scope) {
        Ok(diagram) => diagram,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.format {
        GraphFormat::Dot => emit(&diagram.to_dot()),
        GraphFormat::Mermaid => emit(&diagram.to_mermaid()),
        GraphFormat::Json => emit(&format!("{:#}\n", diagram.to_json())),
    }
    if diagram.has_unknown() {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SweepFormat {
    Text,
    Json,
    Csv,
    /// A proof file of `only` proofs, one per bucket or key and access, that pins who can now.
    Proofs,
}

/// The arguments of `sweep`.
#[derive(clap::Args)]
struct SweepArgs {
    #[command(flatten)]
    sources: SourceArgs,
    /// An access to ask about; repeat for several (default: all).
    #[arg(long = "access", value_name = "ACCESS", value_parser = access_parser())]
    accesses: Vec<String>,
    /// Only the buckets and keys whose ARN matches this pattern (`*` and `?` as in IAM), such
    /// as arn:aws:s3:::media-*; repeatable. A pattern that matches none is an error.
    #[arg(long = "resource", value_name = "PATTERN")]
    resources: Vec<String>,
    #[command(flatten)]
    how: Answering,
    #[arg(long, value_enum, default_value = "text")]
    format: SweepFormat,
}

/// The names of `--access`, each with the question it asks, from the library's table.
fn access_parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(iamproof::sweep::ACCESSES.iter().map(|access| {
        clap::builder::PossibleValue::new(access.name).help(format!(
            "{} on {}",
            access.action,
            access.question_resource(&format!("{}_ARN", access.kind.word().to_uppercase()))
        ))
    }))
}

fn run_sweep(args: SweepArgs, ui: &Ui) -> ExitCode {
    use iamproof::sweep::{render, Scope};
    let sources = match args.sources.required() {
        Ok(sources) => sources,
        Err(code) => return code,
    };
    let (model, context) = match load_question_inputs(&sources, &args.how.context, ui) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let scope = Scope {
        accesses: args.accesses,
        patterns: args.resources,
        context,
    };
    // A pattern that matches nothing is refused before the graph is built.
    if let Err(e) = iamproof::sweep::plan(&model, &scope) {
        return usage_error(&e.to_string());
    }
    let engine = ui.engine(&model, args.how.options());
    let sweep = match iamproof::sweep::sweep(&engine, &scope) {
        Ok(sweep) => sweep,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.format {
        SweepFormat::Text => emit(&render::text(&sweep)),
        SweepFormat::Json => emit(&format!("{:#}\n", render::json(&sweep))),
        SweepFormat::Csv => emit(&render::csv(&sweep)),
        SweepFormat::Proofs => {
            let from = render::ProofSources {
                sources: Some(&sources),
                scope: args.how.scope.into(),
            };
            let (file, left_out) = render::proof_file(&sweep, &from);
            for pair in &left_out {
                eprintln!(
                    "warning: {} is left out of the proof file: {}",
                    pair.pair, pair.reason
                );
            }
            if let Some(at) = args.how.at {
                eprintln!(
                    "warning: a proof file does not record --at; check this one with `iamproof prove --at {}`",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
            emit(&format!("{file:#}\n"));
        }
    }
    if sweep.has_unknown() {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

/// The arguments of `what-if`.
#[derive(clap::Args)]
struct WhatIfArgs {
    /// The account before the change, and with --change, plans and templates that are part
    /// of it; without --change, the plans and templates are the change. With --proofs and no
    /// --account, the proof file's own accounts, plans and templates.
    #[command(flatten)]
    sources: SourceArgs,
    /// The change file (JSON; see the README for its operations).
    #[arg(long, value_name = "CHANGE.json")]
    change: Option<PathBuf>,
    /// Ask every proof of this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["principal", "action", "resource"])]
    proofs: Option<PathBuf>,
    /// Ask `can` for this user or role; without it, ask `who-can`.
    #[arg(long)]
    principal: Option<String>,
    /// The action, such as s3:PutObject.
    #[arg(long, required_unless_present = "proofs")]
    action: Option<String>,
    /// The resource pattern (`*` and `?` as in IAM).
    #[arg(long, required_unless_present = "proofs")]
    resource: Option<String>,
    /// Exit 1 when the change grants access: an answer goes from unreachable or unknown to
    /// reachable, or the principals that can (who-can, an `only` proof) gain one.
    #[arg(long)]
    fail_on_new_access: bool,
    #[command(flatten)]
    answering: AnswerArgs,
}

fn run_what_if(args: WhatIfArgs, ui: &Ui) -> ExitCode {
    use iamproof::whatif::{what_if, what_if_text, Questions};
    let proof_file = match args.proofs.as_deref().map(iamproof::query::prove::read) {
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => return report(&e),
        None => None,
    };
    let given = match args.sources.sources() {
        Ok(sources) => sources,
        Err(code) => return code,
    };
    // Without --account, the proof file's own sources are the account before.
    let mut base = given.clone();
    base.terraform.clear();
    base.templates.clear();
    if let (Some(file), true) = (&proof_file, given.accounts.is_empty()) {
        base.accounts = file.accounts.clone();
        base.terraform = file.terraform.clone();
        base.templates = file.templates.clone();
        base.inputs = file.template_inputs.clone();
    }
    let loaded = match &args.change {
        Some(path) => {
            base.terraform.extend(given.terraform.iter().cloned());
            base.templates.extend(given.templates.iter().cloned());
            file_change(&base, path, &args.answering.how.context, ui)
        }
        None if given.terraform.is_empty() && given.templates.is_empty() => Err(usage_error(
            "what-if needs a change: --change CHANGE.json, --terraform PLAN.json or --template TEMPLATE",
        )),
        None => plan_change(&base, &given, &args.answering.how.context, ui),
    };
    let (model, change, changed, context) = match loaded {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let questions = match (proof_file, args.principal) {
        (Some(file), _) => Questions::Proofs(file),
        (None, Some(principal)) => Questions::Can(iamproof::query::Question {
            principal,
            action: args.action.unwrap_or_default(),
            resource: args.resource.unwrap_or_default(),
            context,
        }),
        (None, None) => Questions::WhoCan {
            action: args.action.unwrap_or_default(),
            resource: args.resource.unwrap_or_default(),
            context,
        },
    };
    let outcome = match what_if(
        &model,
        &changed,
        &change,
        &questions,
        args.answering.how.options(),
        ui,
    ) {
        Ok(outcome) => outcome,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.answering.format {
        ReportFormat::Markdown => emit(&iamproof::report::markdown::what_if(&outcome)),
        ReportFormat::Text => emit(&what_if_text(&outcome)),
        ReportFormat::Json => emit(&format!(
            "{:#}\n",
            serde_json::to_value(&outcome).expect("a what-if serializes")
        )),
    }
    if outcome.fails_after || (args.fail_on_new_access && outcome.new_access) {
        ExitCode::from(1)
    } else if outcome.unknown_after {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_compare(old: &str, new: &str, timeout_ms: u32, format: TextOrJson) -> ExitCode {
    use iamproof::compare::{compare, CompareVerdict, Document};
    if old == "-" && new == "-" {
        return usage_error("compare reads at most one policy from standard input");
    }
    let read = |path: &str| {
        read_input(Some(path)).and_then(|(name, text)| {
            let value = parse_json(&name, &text)?;
            let policy = iamproof::input::policy_at(&name, "", &value)?;
            Ok((name, policy))
        })
    };
    let ((old_name, old_policy), (new_name, new_policy)) = match (read(old), read(new)) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(e), _) | (_, Err(e)) => return report(&e),
    };
    let comparison = match compare(
        Document {
            name: &old_name,
            policy: &old_policy,
        },
        Document {
            name: &new_name,
            policy: &new_policy,
        },
        timeout_ms,
    ) {
        Ok(comparison) => comparison,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match format {
        TextOrJson::Text => emit(&iamproof::compare::comparison_text(
            &comparison,
            &old_name,
            &new_name,
        )),
        TextOrJson::Json => emit(&format!(
            "{:#}\n",
            serde_json::to_value(&comparison).expect("a comparison serializes")
        )),
    }
    match comparison.verdict {
        CompareVerdict::NoNewAccess => ExitCode::SUCCESS,
        CompareVerdict::NewAccess => ExitCode::from(1),
        CompareVerdict::Unknown => ExitCode::from(EXIT_UNDECIDED),
    }
}

fn run_inspect(
    accounts: &[PathBuf],
    principal: Option<&str>,
    format: TextOrJson,
    ui: &Ui,
) -> ExitCode {
    let model = match ui.load_for_inspection(accounts) {
        Ok(model) => model,
        Err(code) => return code,
    };
    let inspection = match inspect::report(&model, principal) {
        Ok(inspection) => inspection,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let rendered = match format {
        TextOrJson::Text => inspect::render_text(&inspection),
        TextOrJson::Json => inspect::render_json(&inspection),
    };
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    ExitCode::SUCCESS
}

fn read_input(file: Option<&str>) -> Result<(String, String), InputError> {
    match file {
        None | Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| InputError::new("<stdin>", "", format!("cannot read: {e}")))?;
            Ok(("<stdin>".to_string(), text))
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| InputError::new(path, "", format!("cannot read: {e}")))?;
            Ok((path.to_string(), text))
        }
    }
}

/// Exit code 3: some answer is unknown.
const EXIT_UNDECIDED: u8 = 3;

/// The snapshots and the `--context` pairs of a question, or the exit code of what is wrong.
/// A model before and after a change, the change, and the question's context.
type Changed = (
    Model,
    iamproof::change::ChangeFile,
    Model,
    iamproof::policy::Context,
);

/// The account before and after a change file.
fn file_change(
    base: &iamproof::sources::Sources,
    path: &std::path::Path,
    context: &[String],
    ui: &Ui,
) -> Result<Changed, ExitCode> {
    if base.is_empty() {
        return Err(usage_error(
            "what-if needs --account, --terraform or --template, or --proofs with accounts",
        ));
    }
    let (model, context) = load_question_inputs(base, context, ui)?;
    let change = iamproof::change::read(path).map_err(|e| report(&e))?;
    let changed = iamproof::change::apply(&model, &change).map_err(|e| report(&e))?;
    Ok((model, change, changed, context))
}

/// The account before and after the plans and templates of `given` (over `base`), described
/// as a change.
fn plan_change(
    base: &iamproof::sources::Sources,
    given: &iamproof::sources::Sources,
    context: &[String],
    ui: &Ui,
) -> Result<Changed, ExitCode> {
    use iamproof::sources::Side;
    let before = if base.is_empty() {
        // Plans alone: their prior state; templates alone: nothing yet.
        let mut prior = given.clone();
        prior.templates.clear();
        ui.loading(|| prior.load_side(Side::Before))
    } else {
        ui.loading(|| base.load())
    }
    .map_err(|e| report(&e))?;
    let mut all = base.clone();
    all.terraform.extend(given.terraform.iter().cloned());
    all.templates.extend(given.templates.iter().cloned());
    all.inputs = given.inputs.clone();
    let after = ui.loading(|| all.load()).map_err(|e| report(&e))?;
    let mut lines = iamproof::terraform::changes(&given.terraform).map_err(|e| report(&e))?;
    lines.extend(
        given
            .templates
            .iter()
            .map(|t| format!("deploy {}", t.display())),
    );
    let files: Vec<String> = given
        .terraform
        .iter()
        .chain(&given.templates)
        .map(|p| p.display().to_string())
        .collect();
    let change = iamproof::change::ChangeFile {
        file: files.join(", "),
        description: Some(if lines.is_empty() {
            "no resource changes".to_string()
        } else {
            lines.join("; ")
        }),
        edits: Vec::new(),
    };
    let context =
        iamproof::query::parse_context(context).map_err(|e| usage_error(&e.to_string()))?;
    Ok((before, change, after, context))
}

fn load_question_inputs(
    sources: &iamproof::sources::Sources,
    context: &[String],
    ui: &Ui,
) -> Result<(Model, iamproof::policy::Context), ExitCode> {
    let model = ui.load_sources(sources)?;
    let context =
        iamproof::query::parse_context(context).map_err(|e| usage_error(&e.to_string()))?;
    Ok((model, context))
}

type Instant = chrono::DateTime<chrono::Utc>;

fn parse_instant(text: &str) -> Result<Instant, String> {
    iamproof::context_model::Clock::parse(text).ok_or_else(|| {
        format!("{text:?} is not an instant such as 2026-12-03T17:00:00Z or 2026-12-03")
    })
}

fn question_options(
    timeout_ms: u32,
    at: Option<Instant>,
    scope: ScopeArg,
) -> iamproof::query::Options {
    let defaults = iamproof::query::Options::default();
    iamproof::query::Options {
        timeout_ms,
        at,
        scope: scope.into(),
        threads: THREADS.get().copied().unwrap_or(defaults.threads),
        ..defaults
    }
}

fn run_can(principal: String, args: &QuestionArgs, ui: &Ui) -> ExitCode {
    let (model, context) = match args
        .sources
        .required()
        .and_then(|sources| load_question_inputs(&sources, &args.answering.how.context, ui))
    {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let engine = ui.engine(&model, args.answering.how.options());
    let question = iamproof::query::Question {
        principal,
        action: args.action.clone(),
        resource: args.resource.clone(),
        context,
    };
    let answer = match engine.can(&question) {
        Ok(answer) => answer,
        Err(e) => return usage_error(&e.to_string()),
    };
    let rendered = match args.answering.format {
        ReportFormat::Text => iamproof::report::answer_text(&answer),
        ReportFormat::Json => format!("{:#}\n", iamproof::report::answer_json(&answer)),
        ReportFormat::Markdown => iamproof::report::markdown::answer(&answer),
    };
    emit(&rendered);
    if answer.verdict == iamproof::query::Verdict::Unknown {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_who_can(args: &QuestionArgs, ui: &Ui) -> ExitCode {
    let (model, context) = match args
        .sources
        .required()
        .and_then(|sources| load_question_inputs(&sources, &args.answering.how.context, ui))
    {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let engine = ui.engine(&model, args.answering.how.options());
    let answers = match engine.who_can(&args.action, &args.resource, &context) {
        Ok(answers) => answers,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.answering.format {
        ReportFormat::Markdown => emit(&iamproof::report::markdown::who_can(
            &answers,
            &args.action,
            &args.resource,
        )),
        ReportFormat::Text => emit(&iamproof::report::who_can_text(
            &answers,
            &args.action,
            &args.resource,
        )),
        ReportFormat::Json => emit(&format!("{:#}\n", iamproof::report::who_can_json(&answers))),
    }
    if answers
        .iter()
        .any(|a| a.verdict == iamproof::query::Verdict::Unknown)
    {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_prove(
    files: &[PathBuf],
    plans: &[PathBuf],
    baseline: Option<&std::path::Path>,
    shard: Option<iamproof::shard::Shard>,
    options: iamproof::query::Options,
    format: ProveFormat,
    ui: &Ui,
) -> ExitCode {
    use iamproof::query::{baseline as accepted, prove};
    let baseline = match baseline.map(accepted::read).transpose() {
        Ok(baseline) => baseline,
        Err(e) => return report(&e),
    };
    // Every mistake of every file is reported, and the proofs that can be checked still are.
    let mut run = prove::run(
        files,
        plans,
        shard,
        |file| ui.loading(|| prove::load(file)),
        |model, file| prove::check_each(&ui.engine(model, options), file),
    );
    for error in &run.errors {
        eprintln!("error: {}", error.message);
    }
    // The JSON report of a shard is written whatever happened: the merge needs its errors.
    let shard_report = shard.filter(|_| format == ProveFormat::Json);
    // Nothing could be checked: no report, as for any bad input.
    if !run.errors.is_empty() && run.results.is_empty() && shard_report.is_none() {
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let mut stale = Vec::new();
    if let Some(baseline) = &baseline {
        for entry in accepted::accept(baseline, &mut run.results) {
            let warning = accepted::stale(baseline, entry);
            // Whether an entry for a proof of another shard is stale, only the merge can tell.
            if !run.elsewhere.contains(&entry.proof) {
                eprintln!("warning: {warning}");
            }
            stale.push(warning);
        }
    }
    match shard_report {
        Some(shard) => {
            let baseline = baseline.as_ref().map(|b| b.file.as_str());
            let record = iamproof::shard::Record::of(shard, &run, baseline, stale);
            emit(&format!(
                "{:#}\n",
                iamproof::shard::report_json(&run.results, &record)
            ));
        }
        None => emit_proofs(format, &run.checked, &run.results),
    }
    prove_exit_code(!run.errors.is_empty(), &run.results)
}

/// `merge-shards`: the report and the exit code `prove` gives, from the reports of its shards.
fn run_merge_shards(reports: &[String], format: ProveFormat) -> ExitCode {
    let mut read = Vec::new();
    for file in reports {
        match read_input(Some(file)).and_then(|(name, text)| iamproof::shard::read(&name, &text)) {
            Ok(report) => read.push(report),
            Err(e) => return report(&e),
        }
    }
    let merged = match iamproof::shard::merge(read) {
        Ok(merged) => merged,
        Err(e) => return report(&e),
    };
    for error in &merged.errors {
        eprintln!("error: {error}");
    }
    if !merged.errors.is_empty() && merged.results.is_empty() {
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    for warning in &merged.stale {
        eprintln!("warning: {warning}");
    }
    emit_proofs(format, &merged.files, &merged.results);
    prove_exit_code(!merged.errors.is_empty(), &merged.results)
}

/// Proof results in a report format of `prove`; `files` are the proof files they came from.
fn emit_proofs(
    format: ProveFormat,
    files: &[iamproof::query::prove::ProofFile],
    results: &[iamproof::query::prove::ProofResult],
) {
    match format {
        ProveFormat::Text => emit(&iamproof::report::proofs_text(results)),
        ProveFormat::Json => emit(&format!("{:#}\n", iamproof::report::proofs_json(results))),
        ProveFormat::Markdown => emit(&iamproof::report::markdown::proofs(results)),
        ProveFormat::Junit => emit(&iamproof::report::junit::render(results)),
        ProveFormat::Sarif => emit(&format!(
            "{:#}\n",
            iamproof::report::sarif::render(files, results)
        )),
    }
}

/// The gate: 2 when something could not be checked, else 1 when a proof fails, else 3 when
/// one is unknown, else 0.
fn prove_exit_code(errors: bool, results: &[iamproof::query::prove::ProofResult]) -> ExitCode {
    use iamproof::query::prove::Status;
    if errors {
        ExitCode::from(EXIT_BAD_INPUT)
    } else if results.iter().any(|r| r.status == Status::Fails) {
        ExitCode::from(1)
    } else if results.iter().any(|r| r.status == Status::Unknown) {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes results to standard output; a reader that went away (`| head`) is not an error.
fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn report(error: &InputError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn run_simulate(file: Option<&str>, batch: bool, format: TextOrJson) -> ExitCode {
    let (name, text) = match read_input(file) {
        Ok(input) => input,
        Err(e) => return report(&e),
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !batch {
        let parsed =
            parse_json(&name, &text).and_then(|value| simulate::parse_request(&name, &value));
        let request = match parsed {
            Ok(request) => request,
            Err(e) => return report(&e),
        };
        let evaluation = simulate::run(&request);
        let rendered = match format {
            TextOrJson::Text => simulate::result_text(request.id.as_ref(), &evaluation),
            TextOrJson::Json => format!(
                "{:#}\n",
                simulate::result_json(request.id.as_ref(), &evaluation)
            ),
        };
        let _ = out.write_all(rendered.as_bytes());
        return ExitCode::SUCCESS;
    }
    let mut failures = 0usize;
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = parse_json(&name, line).map_err(|e| e.at_line(index + 1));
        let id = value.as_ref().ok().and_then(|v| v.get("id").cloned());
        let parsed = value
            .and_then(|v| simulate::parse_request(&name, &v).map_err(|e| e.at_line(index + 1)));
        let rendered = match (parsed, format) {
            (Ok(request), TextOrJson::Json) => {
                simulate::result_json(request.id.as_ref(), &simulate::run(&request)).to_string()
                    + "\n"
            }
            (Ok(request), TextOrJson::Text) => {
                simulate::result_text(request.id.as_ref(), &simulate::run(&request)) + "\n"
            }
            (Err(e), TextOrJson::Json) => {
                failures += 1;
                eprintln!("error: {e}");
                simulate::error_json(id.as_ref(), &e).to_string() + "\n"
            }
            (Err(e), TextOrJson::Text) => {
                failures += 1;
                eprintln!("error: {e}");
                continue;
            }
        };
        if out.write_all(rendered.as_bytes()).is_err() {
            break;
        }
    }
    if failures > 0 {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}
