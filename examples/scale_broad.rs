//! Whole-account timings on the broad synthetic accounts (`SyntheticSpec::BROAD_2K` and
//! `BROAD_10K`: wide managed policies on groups of hundreds of users, roles that trust the
//! account root, `sts:AssumeRole` on `role/*`): load, graph, `who-can s3:PutObject` on one
//! bucket on a fresh engine (graph included), peak memory, and on the 2K account `who-can` on
//! every bucket, one after the other on one engine.
//!
//! ```sh
//! cargo run --release --example scale_broad                    # both accounts
//! cargo run --release --example scale_broad -- 2k              # only those whose name holds "2k"
//! cargo run --release --example scale_broad -- 2k --buckets 50 --budget 120
//! ```
//!
//! `--buckets N` asks the every-bucket run about the first N buckets only (0 skips it);
//! `--budget SECONDS` (default 300) stops any one `who-can` measurement after that long and
//! extrapolates from the principals (and buckets) done, saying so. Snapshots are written once
//! into `target/synthetic-broad/` when run from the crate (keyed by the generator's source, so
//! a changed generator writes anew), into a temporary folder otherwise. Peak memory is
//! `VmHWM` of `/proc/self/status`, reset before each account where the kernel allows it.

use iamproof::policy::Context;
use iamproof::progress::Progress;
use iamproof::query::{Engine, Options, Verdict};
use iamproof::synthetic::{write_account, SyntheticSpec};
use std::cell::{Cell, RefCell};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The generator's source: a cached snapshot written by another version is written anew.
const GENERATOR: [&str; 2] = [
    include_str!("../src/synthetic.rs"),
    include_str!("../src/synthetic/broad.rs"),
];

/// The panic payload that stops a measurement at its budget.
struct BudgetSpent;

/// Counts the principals `who-can` has answered, with the time of each, and stops it (by
/// unwinding with [`BudgetSpent`]) once the deadline is past.
struct Budget {
    deadline: Instant,
    total: Cell<u64>,
    done: Cell<u64>,
    /// The time each principal's answer was done, in the order `who-can` asks them (roles
    /// first, then users).
    marks: RefCell<Vec<Instant>>,
}

impl Budget {
    fn new(seconds: f64) -> Budget {
        Budget {
            deadline: Instant::now() + Duration::from_secs_f64(seconds),
            total: Cell::new(0),
            done: Cell::new(0),
            marks: RefCell::new(Vec::new()),
        }
    }

    fn fraction(&self) -> f64 {
        self.done.get() as f64 / self.total.get().max(1) as f64
    }
}

impl Progress for Budget {
    fn stage(&self, _label: &str, steps: Option<u64>) {
        self.total.set(steps.unwrap_or(0));
        self.done.set(0);
        self.marks.borrow_mut().clear();
    }

    fn step(&self) {
        self.done.set(self.done.get() + 1);
        let now = Instant::now();
        self.marks.borrow_mut().push(now);
        if now > self.deadline {
            std::panic::panic_any(BudgetSpent);
        }
    }
}

struct Args {
    filter: String,
    buckets: Option<usize>,
    budget: f64,
}

fn parse_args() -> Args {
    let mut args = Args {
        filter: String::new(),
        buckets: None,
        budget: 300.0,
    };
    let mut rest = std::env::args().skip(1);
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match arg.as_str() {
            "--buckets" => args.buckets = Some(value("--buckets").parse().expect("a count")),
            "--budget" => args.budget = value("--budget").parse().expect("seconds"),
            _ => args.filter = arg,
        }
    }
    args
}

/// Where the snapshot of `spec` is (written if it is not there yet), the time writing took,
/// and the temporary folder to keep alive when there is no `target/`.
fn snapshot(
    name: &str,
    spec: &SyntheticSpec,
) -> (PathBuf, Option<Duration>, Option<tempfile::TempDir>) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (GENERATOR, format!("{spec:?}")).hash(&mut hasher);
    let (dir, temp) = if Path::new("target").is_dir() {
        let dir = PathBuf::from(format!(
            "target/synthetic-broad/{name}-{:016x}",
            hasher.finish()
        ));
        (dir, None)
    } else {
        let temp = tempfile::tempdir().expect("a temp dir");
        (temp.path().to_path_buf(), Some(temp))
    };
    let stamp = dir.with_extension("written");
    if stamp.exists() {
        return (dir, None, temp);
    }
    let started = Instant::now();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("a half-written snapshot is removed");
    }
    write_account(&dir, spec).expect("the synthetic snapshot is written");
    std::fs::write(&stamp, "").expect("the stamp is written");
    (dir, Some(started.elapsed()), temp)
}

/// `VmHWM` of this process, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets `VmHWM` to the present resident size, where the kernel allows it.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// What one `who-can` measurement gave: its time (extrapolated when the budget stopped it),
/// how many principals of the model can (of those answered), and where the time went.
struct WhoCan {
    seconds: f64,
    finished: bool,
    can: usize,
    unknown: usize,
    answered: u64,
    principals: u64,
    users_seconds: f64,
    roles_seconds: f64,
}

/// `who-can s3:PutObject` on `bucket` with `engine`, stopped at the budget's deadline.
fn who_can(engine: &Engine, budget: &Budget, bucket: &str, roles: usize) -> WhoCan {
    let resource = format!("arn:aws:s3:::{bucket}/*");
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        engine
            .who_can("s3:PutObject", &resource, &Context::new())
            .expect("well formed")
    }));
    let elapsed = started.elapsed().as_secs_f64();
    let marks = budget.marks.borrow();
    let split = |from: usize, to: usize| -> f64 {
        let at = |i: usize| {
            if i == 0 {
                started
            } else {
                marks[i - 1]
            }
        };
        let to = to.min(marks.len());
        if from >= to {
            return 0.0;
        }
        (at(to) - at(from)).as_secs_f64()
    };
    let (roles_seconds, users_seconds) = (split(0, roles), split(roles, marks.len()));
    match result {
        Ok(answers) => {
            let inside = |a: &&iamproof::query::Answer| {
                a.query.principal.starts_with("arn:") && a.outside.is_none()
            };
            WhoCan {
                seconds: elapsed,
                finished: true,
                can: answers
                    .iter()
                    .filter(inside)
                    .filter(|a| a.verdict == Verdict::Reachable)
                    .count(),
                unknown: answers
                    .iter()
                    .filter(inside)
                    .filter(|a| a.verdict == Verdict::Unknown)
                    .count(),
                answered: budget.done.get(),
                principals: budget.total.get(),
                users_seconds,
                roles_seconds,
            }
        }
        Err(payload) if payload.is::<BudgetSpent>() => WhoCan {
            seconds: elapsed / budget.fraction().max(1e-9),
            finished: false,
            can: 0,
            unknown: 0,
            answered: budget.done.get(),
            principals: budget.total.get(),
            users_seconds,
            roles_seconds,
        },
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

fn main() {
    let args = parse_args();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload().is::<BudgetSpent>() {
            default_hook(info)
        }
    }));
    let accounts = [
        ("broad-2k", SyntheticSpec::BROAD_2K, true),
        ("broad-10k", SyntheticSpec::BROAD_10K, false),
    ];
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (name, spec, every_bucket) in accounts {
        if !name.contains(args.filter.as_str()) {
            continue;
        }
        reset_peak_rss();
        let (dir, written, _temp) = snapshot(name, &spec);
        if let Some(written) = written {
            println!("{name}: written to {} in {written:.2?}", dir.display());
        }
        let started = Instant::now();
        let model = iamproof::snapshot::load(&[dir]).expect("the synthetic snapshot loads");
        let load = started.elapsed();
        assert!(model.warnings.is_empty(), "{:#?}", model.warnings);
        println!("{name}: loaded {} in {load:.2?}", model.counts());
        let started = Instant::now();
        let edges = Engine::new(&model, Options::default()).graph.edge_count();
        let graph = started.elapsed();
        println!("{name}: graph of {edges} edges in {graph:.2?}");
        let budget = Budget::new(args.budget);
        let started = Instant::now();
        let engine = Engine::new(&model, Options::default()).with_progress(&budget);
        let built = started.elapsed().as_secs_f64();
        let one = who_can(&engine, &budget, "synthetic-bucket-0003", model.roles.len());
        drop(engine);
        let one_seconds = one.seconds + built;
        let who = if one.finished {
            println!(
                "{name}: who-can s3:PutObject on synthetic-bucket-0003 in {one_seconds:.2} s \
                 (users {:.2} s, roles {:.2} s): {} of {} principals can, {} unknown",
                one.users_seconds, one.roles_seconds, one.can, one.principals, one.unknown
            );
            format!(
                "{one_seconds:.1} s ({} of {} can)",
                one.can,
                model.users.len() + model.roles.len()
            )
        } else {
            let (users, roles) = (model.users.len() as u64, model.roles.len() as u64);
            // Roles come first; when the budget ran out among the users, the users alone are
            // extrapolated too.
            let users_only = (one.answered > roles).then(|| {
                format!(
                    ", {:.0} s for the users alone",
                    one.users_seconds / (one.answered - roles) as f64 * users as f64
                )
            });
            let note = format!(
                "{name}: who-can stopped at the {:.0} s budget after {} of {} principals \
                 (users {:.2} s, roles {:.2} s); {one_seconds:.0} s extrapolated over all \
                 principals{}",
                args.budget,
                one.answered,
                one.principals,
                one.users_seconds,
                one.roles_seconds,
                users_only.unwrap_or_default()
            );
            println!("{note}");
            notes.push(note);
            format!("~{one_seconds:.0} s (extrapolated)")
        };
        let peak = peak_rss_mib().unwrap_or(f64::NAN);
        rows.push(format!(
            "| {name} | {} | {:.2} s | {:.2} s ({edges} edges) | {who} | {peak:.0} MiB |",
            model.users.len() + model.roles.len(),
            load.as_secs_f64(),
            graph.as_secs_f64(),
        ));
        if !every_bucket {
            continue;
        }
        let buckets = args
            .buckets
            .unwrap_or(model.buckets.len())
            .min(model.buckets.len());
        if buckets == 0 {
            continue;
        }
        let names: Vec<&String> = model.buckets.keys().take(buckets).collect();
        let budget = Budget::new(args.budget);
        let started = Instant::now();
        let engine = Engine::new(&model, Options::default()).with_progress(&budget);
        let mut done = 0.0;
        let mut can = 0;
        let mut finished = true;
        for bucket in &names {
            let answer = who_can(&engine, &budget, bucket, model.roles.len());
            if !answer.finished {
                done += budget.fraction();
                finished = false;
                break;
            }
            println!(
                "{name}: who-can s3:PutObject on {bucket}: {:.2} s, {} can",
                answer.seconds, answer.can
            );
            can += answer.can;
            done += 1.0;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let line = if finished {
            format!(
                "{name}: who-can s3:PutObject on each of {buckets} buckets, one engine: {elapsed:.1} s \
                 ({:.2} s a bucket; {:.0} principals can on average)",
                elapsed / buckets as f64,
                can as f64 / buckets as f64
            )
        } else {
            format!(
                "{name}: who-can s3:PutObject on each of {buckets} buckets, one engine: stopped at the \
                 {:.0} s budget after {done:.2} buckets; {:.0} s extrapolated ({:.2} s a bucket)",
                args.budget,
                elapsed / done.max(1e-9) * buckets as f64,
                elapsed / done.max(1e-9)
            )
        };
        println!("{line}");
        notes.push(line);
    }
    println!();
    println!(
        "| account | principals | load | graph | who-can one bucket (graph included) | peak RSS |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!("{row}");
    }
    for note in notes {
        println!("{note}");
    }
}
