//! `docs/techniques.md` cannot drift from the technique tables: its technique table and its
//! list of unmodelled actions are the ones the code renders, every technique id it names (in
//! backticks) is a technique of the code, every `unknown:` row of its coverage table names an
//! action of `UNMODELLED`, and every `modelled:` row lists every action the technique it names
//! requests.
//!
//! After a change to a technique table, print the new tables with
//! `cargo test --release --test techniques_doc -- --ignored --nocapture` and paste them into the
//! document.

use iamproof::service::technique::{
    self, passed_to_service, Bears, Edit, Gain, On, Targets, Technique, UNMODELLED,
};
use std::collections::BTreeSet;

const DOC: &str = "docs/techniques.md";

fn document() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn targets(targets: &Targets) -> &'static str {
    match targets {
        Targets::PassedRole { .. } => "a role it passes",
        Targets::RunningRole { .. } => "the role an existing resource runs with",
        Targets::User => "a user",
        Targets::Group => "a group",
        Targets::Role => "a role (not under a reserved path)",
        Targets::ManagedPolicy => "a customer managed policy",
        Targets::Bucket => "a bucket of its account",
        Targets::Key {
            other_accounts: false,
        } => "a KMS key of its account",
        Targets::Key {
            other_accounts: true,
        } => "a KMS key of any account",
    }
}

fn on(on: &On) -> String {
    match on {
        On::Target => "the target".to_string(),
        On::Created(format) => format!("a new `{format}`"),
        On::Running(format) => format!("an existing `{format}`"),
        On::Existing { format, always: [] } => format!("an existing `{format}`"),
        On::Existing { format, always } => format!(
            "an existing `{format}` (every account has {})",
            always
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        On::Named(format) => format!("AWS's `{format}`"),
        On::Any => "`*`".to_string(),
    }
}

fn edit(edit: &Edit) -> &'static str {
    match edit {
        Edit::PutInlinePolicy => "an inline policy of its writing on the target",
        Edit::AttachAdministratorAccess => "`AdministratorAccess` attached to the target",
        Edit::ReplacePolicyVersion => "a new default version of the policy, of its writing",
        Edit::AddUserToGroup => "any user it chooses added to the group",
        Edit::RemoveBoundary => {
            "the target's permissions boundary removed (or made `AdministratorAccess`)"
        }
        Edit::OpenTrust => {
            "the role's trust policy opened to the account's principals and the launching services"
        }
        Edit::RewriteResourcePolicy => {
            "the resource policy rewritten: denies dropped, allows kept, every principal of the account allowed everything"
        }
        Edit::GrantKeyUse => "a grant of the key's grant operations for its account",
    }
}

fn gain(gain: &Gain) -> String {
    match gain {
        Gain::RunsAs => "runs as the role (code of its writing)".to_string(),
        Gain::Job { does, session } => format!(
            "a job with the role, session `{session}`, that makes only {}",
            does.iter()
                .map(|(action, _)| format!("`{action}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Gain::BecomesUser => "the user's credentials".to_string(),
        Gain::Edits(e) => format!("account edit: {}", edit(e)),
    }
}

fn principal(technique: &Technique) -> String {
    match technique.service() {
        None => "none".to_string(),
        Some(service) if passed_to_service(service) != service => format!(
            "`{service}` (`iam:PassedToService` is `{}`)",
            passed_to_service(service)
        ),
        Some(service) => format!("`{service}`"),
    }
}

/// The technique table, one row a technique, as the document holds it.
fn technique_table() -> String {
    let mut out = String::from(
        "| id | scope | service principal | target | requests | gains | assumes |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for t in technique::all() {
        let requests = t
            .needs
            .iter()
            .map(|n| format!("`{}` on {}", n.action, on(&n.on)))
            .collect::<Vec<_>>()
            .join("; ");
        let assumes = if t.assumes.is_empty() {
            "nothing beyond the requests".to_string()
        } else {
            t.assumes.join("; ")
        };
        let scope = if t.is_configured_chain() {
            "configured"
        } else {
            "all"
        };
        out.push_str(&format!(
            "| `{}` | {scope} | {} | {} | {} | {} | {assumes} |\n",
            t.id,
            principal(t),
            targets(&t.targets),
            requests,
            gain(&t.gain),
        ));
    }
    out
}

fn bears(bears: &Bears) -> &'static str {
    match bears {
        Bears::OnIdentityDenies => "an identity policy of the actor's account denies something",
        Bears::OnPolicyVersions => {
            "a customer managed policy of the actor's account has versions besides the one in force"
        }
        Bears::OnQuestionBucket => {
            "the question is about a bucket of the actor's account, one whose policy lets others change it, or a bucket of no snapshot"
        }
        Bears::FromManagementAccount => {
            "the actor's account is, or may be, the organization's management account, and some SCP or RCP applies"
        }
        Bears::FromOrganization => {
            "the actor's account is, or may be, the organization's management account"
        }
    }
}

/// The unmodelled actions, as the document holds them.
fn unmodelled_table() -> String {
    let mut out = String::from(
        "| action | what it would do | makes a refutation unknown when |\n|---|---|---|\n",
    );
    for (action, what, when) in UNMODELLED {
        out.push_str(&format!("| `{action}` | {what} | {} |\n", bears(when)));
    }
    out
}

/// The markdown table that starts with `header`, up to the first line that is not a row.
fn table_after<'d>(doc: &'d str, header: &str) -> &'d str {
    let start = doc
        .find(header)
        .unwrap_or_else(|| panic!("{DOC} has no table with header {header:?}"));
    let rest = &doc[start..];
    let end = rest.find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

/// Every text between backticks.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether a backticked token has the shape of a technique id: lowercase words and digits
/// joined by hyphens (catalogue ids are written without backticks).
fn looks_like_id(token: &str) -> bool {
    token.contains('-')
        && token.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn ids() -> BTreeSet<&'static str> {
    technique::all().iter().map(|t| t.id).collect()
}

/// The cells of a markdown table row.
fn cells(row: &str) -> Vec<&str> {
    row.trim()
        .trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}

/// The action names of a cell, compared exactly (`codebuild:StartBuild` is not in
/// `codebuild:StartBuildBatch`).
fn actions_in(cell: &str) -> BTreeSet<String> {
    cell.split(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '*'))
        .filter(|w| w.contains(':'))
        .map(|w| w.trim_matches(':').to_ascii_lowercase())
        .collect()
}

#[test]
#[ignore = "prints the tables to paste into docs/techniques.md"]
fn print_tables() {
    println!("{}\n{}", technique_table(), unmodelled_table());
}

#[test]
fn the_technique_table_is_the_codes() {
    let doc = document();
    let table = table_after(&doc, "| id | scope | service principal |");
    assert_eq!(
        table,
        technique_table(),
        "{DOC}'s technique table differs from the code's; regenerate it (see this test's header)"
    );
    let listed: BTreeSet<&str> = table
        .lines()
        .skip(2)
        .filter_map(|row| backticked(row).first().copied())
        .collect();
    assert_eq!(
        listed,
        ids(),
        "{DOC} lists other technique ids than the code"
    );
}

#[test]
fn the_unmodelled_list_is_the_codes() {
    let doc = document();
    assert_eq!(
        table_after(&doc, "| action | what it would do |"),
        unmodelled_table(),
        "{DOC}'s unmodelled actions differ from technique::UNMODELLED"
    );
}

#[test]
fn every_technique_id_the_document_names_exists() {
    let doc = document();
    let ids = ids();
    let unknown: BTreeSet<&str> = backticked(&doc)
        .into_iter()
        .filter(|token| looks_like_id(token) && !ids.contains(token))
        .collect();
    assert!(
        unknown.is_empty(),
        "{DOC} names technique ids the code does not have: {unknown:?}"
    );
}

#[test]
fn every_coverage_row_is_placed_by_the_code() {
    let doc = document();
    let table = table_after(&doc, "| catalogue | path | permissions | status |");
    let unmodelled: BTreeSet<String> = UNMODELLED
        .iter()
        .map(|(a, _, _)| a.to_ascii_lowercase())
        .collect();
    let mut seen = BTreeSet::new();
    let mut rows = 0;
    for row in table.lines().skip(2) {
        let cells = cells(row);
        assert_eq!(
            cells.len(),
            4,
            "{DOC}: coverage row {row:?} has not 4 cells"
        );
        let (catalogue, path, permissions, status) = (cells[0], cells[1], cells[2], cells[3]);
        assert!(
            seen.insert((catalogue, path)),
            "{DOC}: {catalogue} {path} is listed twice"
        );
        rows += 1;
        let named: Vec<&Technique> = backticked(status)
            .into_iter()
            .filter_map(technique::by_id)
            .collect();
        if status.starts_with("modelled:") {
            assert!(
                !named.is_empty() || status.contains("role assumption"),
                "{DOC}: {catalogue} {path} is modelled by no technique it names"
            );
            // A path is modelled only where the technique requests a subset of its
            // permissions.
            let permitted = actions_in(permissions);
            for t in &named {
                for needed in t.needs {
                    assert!(
                        permitted.contains(&needed.action.to_ascii_lowercase()),
                        "{DOC}: {catalogue} {path} is marked modelled by {} but its permissions lack {}",
                        t.id,
                        needed.action
                    );
                }
            }
        } else if status.starts_with("unknown:") {
            let actions: Vec<&str> = backticked(status)
                .into_iter()
                .filter(|a| unmodelled.contains(&a.to_ascii_lowercase()))
                .collect();
            assert!(
                !actions.is_empty(),
                "{DOC}: {catalogue} {path} is unknown but names no action of UNMODELLED"
            );
        } else {
            assert!(
                status.starts_with("not modelled:") || status.starts_with("not applicable:"),
                "{DOC}: {catalogue} {path} has status {status:?}; expected modelled:, unknown:, not modelled: or not applicable:"
            );
        }
    }
    assert!(rows > 0, "{DOC}'s coverage table is empty");
}
