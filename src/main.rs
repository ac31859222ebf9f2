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
    #[command(subcommand)]
    command: Command,
}

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
}

/// How a question is answered: context it fixes, solver timeout, output format (`can`,
/// `who-can` and `what-if`).
#[derive(clap::Args)]
struct AnswerArgs {
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
    #[arg(long, value_enum, default_value = "text")]
    format: TextOrJson,
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

/// What `can` and `who-can` share: the snapshots and the question.
#[derive(clap::Args)]
struct QuestionArgs {
    /// A snapshot folder (AWS CLI output of one account); repeat for several accounts.
    #[arg(long = "account", value_name = "DIR", required = true)]
    accounts: Vec<PathBuf>,
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
            format,
        } => run_prove(&files, question_options(timeout_ms, at, scope), format, ui),
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
    }
}

/// The arguments of `graph`.
#[derive(clap::Args)]
struct GraphArgs {
    /// A snapshot folder (AWS CLI output of one account); repeat for several accounts.
    #[arg(long = "account", value_name = "DIR", required = true)]
    accounts: Vec<PathBuf>,
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
    let model = match ui.load(&args.accounts) {
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

/// The arguments of `what-if`.
#[derive(clap::Args)]
struct WhatIfArgs {
    /// A snapshot folder; repeat for several accounts. With --proofs, the proof file's own
    /// accounts are used when none is given.
    #[arg(long = "account", value_name = "DIR")]
    accounts: Vec<PathBuf>,
    /// The change file (JSON; see the README for its operations).
    #[arg(long, value_name = "CHANGE.json")]
    change: PathBuf,
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
    let accounts = match (&proof_file, args.accounts.is_empty()) {
        (Some(file), true) => file.accounts.clone(),
        (None, true) => return usage_error("what-if needs --account, or --proofs with accounts"),
        _ => args.accounts.clone(),
    };
    let (model, context) = match load_question_inputs(&accounts, &args.answering.context, ui) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let change = match iamproof::change::read(&args.change) {
        Ok(change) => change,
        Err(e) => return report(&e),
    };
    let changed = match iamproof::change::apply(&model, &change) {
        Ok(changed) => changed,
        Err(e) => return report(&e),
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
        question_options(
            args.answering.timeout_ms,
            args.answering.at,
            args.answering.scope,
        ),
        ui,
    ) {
        Ok(outcome) => outcome,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.answering.format {
        TextOrJson::Text => emit(&what_if_text(&outcome)),
        TextOrJson::Json => emit(&format!(
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
fn load_question_inputs(
    accounts: &[PathBuf],
    context: &[String],
    ui: &Ui,
) -> Result<(Model, iamproof::policy::Context), ExitCode> {
    let model = ui.load(accounts)?;
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
    iamproof::query::Options {
        timeout_ms,
        at,
        scope: scope.into(),
        ..Default::default()
    }
}

fn run_can(principal: String, args: &QuestionArgs, ui: &Ui) -> ExitCode {
    let (model, context) = match load_question_inputs(&args.accounts, &args.answering.context, ui) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let engine = ui.engine(
        &model,
        question_options(
            args.answering.timeout_ms,
            args.answering.at,
            args.answering.scope,
        ),
    );
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
        TextOrJson::Text => iamproof::report::answer_text(&answer),
        TextOrJson::Json => format!("{:#}\n", iamproof::report::answer_json(&answer)),
    };
    emit(&rendered);
    if answer.verdict == iamproof::query::Verdict::Unknown {
        ExitCode::from(EXIT_UNDECIDED)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_who_can(args: &QuestionArgs, ui: &Ui) -> ExitCode {
    let (model, context) = match load_question_inputs(&args.accounts, &args.answering.context, ui) {
        Ok(inputs) => inputs,
        Err(code) => return code,
    };
    let engine = ui.engine(
        &model,
        question_options(
            args.answering.timeout_ms,
            args.answering.at,
            args.answering.scope,
        ),
    );
    let answers = match engine.who_can(&args.action, &args.resource, &context) {
        Ok(answers) => answers,
        Err(e) => return usage_error(&e.to_string()),
    };
    match args.answering.format {
        TextOrJson::Text => emit(&iamproof::report::who_can_text(
            &answers,
            &args.action,
            &args.resource,
        )),
        TextOrJson::Json => emit(&format!("{:#}\n", iamproof::report::who_can_json(&answers))),
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
    options: iamproof::query::Options,
    format: ProveFormat,
    ui: &Ui,
) -> ExitCode {
    use iamproof::query::prove;
    let mut proof_files = Vec::new();
    let mut results = Vec::new();
    for file in files {
        let checked = prove::read(file).and_then(|proof_file| {
            let model = ui.loading(|| prove::load(&proof_file))?;
            let checked = prove::check_on(&ui.engine(&model, options), &proof_file);
            proof_files.push(proof_file);
            checked
        });
        match checked {
            Ok(mut file_results) => results.append(&mut file_results),
            Err(e) => return report(&e),
        }
    }
    match format {
        ProveFormat::Text => emit(&iamproof::report::proofs_text(&results)),
        ProveFormat::Json => emit(&format!("{:#}\n", iamproof::report::proofs_json(&results))),
        ProveFormat::Junit => emit(&iamproof::report::junit::render(&results)),
        ProveFormat::Sarif => emit(&format!(
            "{:#}\n",
            iamproof::report::sarif::render(&proof_files, &results)
        )),
    }
    if results.iter().any(|r| r.status == prove::Status::Fails) {
        ExitCode::from(1)
    } else if results.iter().any(|r| r.status == prove::Status::Unknown) {
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
