//! Where things are written: the line of a proof in its proof file, and the snapshot file and
//! line of the policy statement that grants an access.
//!
//! CI annotations are only useful when they land on a line a reviewer can open. The loaders keep
//! no text positions (serde_json drops them), so this re-reads the files with a small JSON reader
//! that remembers the line each value starts on, and walks the AWS CLI layout by the names the
//! answers use (`<ARN>#inline/<name>`, `trust policy of <ARN>`, managed policy ARNs, `bucket
//! policy of <bucket>`, `key policy of <ARN>`). Anything it cannot place is reported without a
//! line, never guessed: a statement inside a policy that the CLI prints as (URL-encoded) JSON
//! text is placed at that text, and policies from the bundled AWS managed copy are not placed at
//! all (they are not in the user's repository).
//!
//! A policy a Terraform plan or a CloudFormation template declares is placed at the resource
//! that declares it ([`crate::model::Origin`]): its entry in the plan's `resource_changes` (or
//! a state's modules), or `Resources.<logical id>` of a JSON template; a YAML template's line
//! is kept by its reader. The Terraform configuration (`.tf` files) is not in the plan, so the
//! plan's own line is the one a reviewer can open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A JSON value with the 1-based lines of its first and last characters.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub end_line: usize,
    pub value: Value,
}

/// The shape of a value; numbers, booleans and null only matter as "something else".
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    String(String),
    Bool(bool),
    Other,
}

impl Node {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The elements of an array (nothing for any other value).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Array(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Deeper documents than this are not placed; serde_json, which read them first, stops at 128.
const MAX_DEPTH: usize = 200;

/// Reads JSON text into line-tagged nodes; `None` when it is not JSON this reader follows.
pub fn parse(text: &str) -> Option<Node> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        at: 0,
        line: 1,
    };
    // A byte order mark is not JSON, but editors write it.
    if text.starts_with('\u{feff}') {
        reader.at = '\u{feff}'.len_utf8();
    }
    let node = reader.value(0)?;
    reader.skip_space();
    (reader.at == reader.bytes.len()).then_some(node)
}

struct Reader<'t> {
    bytes: &'t [u8],
    text: &'t str,
    at: usize,
    line: usize,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.bytes.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    fn value(&mut self, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        let line = self.line;
        let value = match *self.bytes.get(self.at)? {
            b'{' => {
                self.at += 1;
                let mut members = Vec::new();
                if self.eat(b'}').is_none() {
                    loop {
                        self.skip_space();
                        let key = self.string()?;
                        self.eat(b':')?;
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b',').is_none() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                Value::Object(members)
            }
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_none() {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b',').is_none() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                Value::Array(items)
            }
            b'"' => Value::String(self.string()?),
            _ => {
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|b| {
                    !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                }) {
                    self.at += 1;
                }
                match &self.text[start..self.at] {
                    "" => return None,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::Other,
                }
            }
        };
        Some(Node {
            line,
            end_line: self.line,
            value,
        })
    }

    /// A string literal, unescaped. JSON strings hold no raw newlines, so the line stays.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        if self.bytes.get(self.at) != Some(&b'"') {
            return None;
        }
        self.at += 1;
        loop {
            match *self.bytes.get(self.at)? {
                b'\\' => self.at += 2,
                b'"' => break,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        serde_json::from_str(self.text.get(start..self.at)?).ok()
    }
}

/// A place in a file: the file as a path usable from the current directory, and its lines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    pub end_line: usize,
}

/// The line of `proofs[i]` in a proof file: the line of its `name`, else of its opening brace.
pub fn proof_line(text: &str, json_path: &str) -> Option<usize> {
    let index: usize = json_path
        .strip_prefix("proofs[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let root = parse(text)?;
    let proof = root.get("proofs")?.items().get(index)?;
    Some(proof.get("name").map_or(proof.line, |name| name.line))
}

/// Finds policy statements in the snapshot folders of one proof file, reading each file once.
#[derive(Default)]
pub struct Snapshots {
    files: BTreeMap<PathBuf, Option<Node>>,
}

impl Snapshots {
    fn read(&mut self, file: PathBuf) -> Option<&Node> {
        self.files
            .entry(file)
            .or_insert_with_key(|file| {
                std::fs::read_to_string(file)
                    .ok()
                    .and_then(|text| parse(&text))
            })
            .as_ref()
    }

    /// Where `statement` (a Sid, or an index for statements without one) of the policy called
    /// `policy` is written, searching the folders in order.
    pub fn statement(
        &mut self,
        folders: &[PathBuf],
        policy: &str,
        statement: usize,
    ) -> Option<Place> {
        folders
            .iter()
            .find_map(|folder| self.statement_in(folder, policy, statement))
    }

    fn statement_in(&mut self, folder: &Path, policy: &str, statement: usize) -> Option<Place> {
        if let Some(bucket) = policy.strip_prefix("bucket policy of ") {
            return self.resource_policy(
                folder.join("s3").join(bucket).join("policy.json"),
                statement,
            );
        }
        if let Some(key_arn) = policy.strip_prefix("key policy of ") {
            let key_id = key_arn.rsplit_once(":key/").map(|(_, id)| id)?;
            return self.resource_policy(
                folder.join("kms").join(key_id).join("policy.json"),
                statement,
            );
        }
        let file = folder
            .join("iam")
            .join("account-authorization-details.json");
        let root = self.read(file.clone())?;
        let node = authorization_details_statement(root, policy, statement)?;
        Some(Place::of(file, node))
    }

    /// Where the resource a plan or template declares a policy with starts.
    pub fn declaration(&mut self, origin: &crate::model::Origin) -> Option<Place> {
        let file = PathBuf::from(&origin.file);
        if let Some(line) = origin.line {
            return Some(Place {
                file,
                line,
                end_line: line,
            });
        }
        let root = self.read(file.clone())?;
        let node = if origin.template {
            root.get("Resources")?.get(&origin.address)?
        } else if let Some(changes) = root.get("resource_changes") {
            changes
                .items()
                .iter()
                .find(|c| c.get("address").and_then(Node::as_str) == Some(&origin.address))?
        } else {
            state_resource(root.get("values")?.get("root_module")?, &origin.address)?
        };
        Some(Place::of(file, node))
    }

    /// `get-bucket-policy` and `get-key-policy` print `{"Policy": "<JSON text>"}`.
    fn resource_policy(&mut self, file: PathBuf, statement: usize) -> Option<Place> {
        let root = self.read(file.clone())?;
        let document = root.get("Policy").unwrap_or(root);
        let node = statement_node(document, statement);
        Some(Place::of(file, node))
    }
}

impl Place {
    fn of(file: PathBuf, node: &Node) -> Place {
        Place {
            file,
            line: node.line,
            end_line: node.end_line,
        }
    }
}

/// The resource at `address` in a state's module or its child modules.
fn state_resource<'n>(module: &'n Node, address: &str) -> Option<&'n Node> {
    let resources = module.get("resources").map(Node::items).unwrap_or_default();
    if let Some(found) = resources
        .iter()
        .find(|r| r.get("address").and_then(Node::as_str) == Some(address))
    {
        return Some(found);
    }
    let children = module
        .get("child_modules")
        .map(Node::items)
        .unwrap_or_default();
    children
        .iter()
        .find_map(|child| state_resource(child, address))
}

/// A statement of a policy in `get-account-authorization-details` output (one object, or a list
/// of raw pages), or the closest enclosing value that is a line of the file.
fn authorization_details_statement<'n>(
    root: &'n Node,
    policy: &str,
    statement: usize,
) -> Option<&'n Node> {
    let pages: Vec<&Node> = match &root.value {
        Value::Array(pages) => pages.iter().collect(),
        _ => vec![root],
    };
    let with_arn = |list: &str, arn: &str| {
        pages
            .iter()
            .flat_map(|page| page.get(list).map(Node::items).unwrap_or_default())
            .find(|entry| entry.get("Arn").and_then(Node::as_str) == Some(arn))
    };
    if let Some(role_arn) = policy.strip_prefix("trust policy of ") {
        let role = with_arn("RoleDetailList", role_arn)?;
        return Some(match role.get("AssumeRolePolicyDocument") {
            Some(document) => statement_node(document, statement),
            None => role,
        });
    }
    if let Some((owner, name)) = policy.split_once("#inline/") {
        let (list, inline) = if owner.contains(":user/") {
            ("UserDetailList", "UserPolicyList")
        } else if owner.contains(":role/") {
            ("RoleDetailList", "RolePolicyList")
        } else {
            ("GroupDetailList", "GroupPolicyList")
        };
        let owner = with_arn(list, owner)?;
        let entry = owner
            .get(inline)?
            .items()
            .iter()
            .find(|p| p.get("PolicyName").and_then(Node::as_str) == Some(name))?;
        return Some(match entry.get("PolicyDocument") {
            Some(document) => statement_node(document, statement),
            None => entry,
        });
    }
    let managed = with_arn("Policies", policy)?;
    let default_version = managed
        .get("PolicyVersionList")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .find(|v| v.get("IsDefaultVersion").map(|d| &d.value) == Some(&Value::Bool(true)));
    Some(
        match default_version.and_then(|version| version.get("Document")) {
            Some(document) => statement_node(document, statement),
            None => managed,
        },
    )
}

/// Statement `index` of a policy document (by position: a statement's label may be a Sid that
/// reads like another statement's index); the document itself when it is JSON text (its
/// statements are not lines of the file) or has no such statement.
fn statement_node(document: &Node, index: usize) -> &Node {
    let Some(statements) = document.get("Statement") else {
        return document;
    };
    match &statements.value {
        Value::Array(items) => items.get(index).unwrap_or(document),
        _ if index == 0 => statements,
        _ => document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_the_line_they_start_on() {
        let text = "{\n  \"a\": [\n    1,\n    {\"b\": \"x\\\"y\"}\n  ],\n  \"c\": true\n}\n";
        let root = parse(text).expect("valid JSON");
        assert_eq!(root.line, 1);
        let a = root.get("a").expect("a");
        assert_eq!((a.line, a.end_line), (2, 5));
        assert_eq!(root.end_line, 7);
        assert_eq!(a.items()[1].line, 4);
        assert_eq!(a.items()[1].get("b").and_then(Node::as_str), Some("x\"y"));
        assert_eq!(root.get("c").map(|c| &c.value), Some(&Value::Bool(true)));
    }

    #[test]
    fn broken_or_trailing_text_is_not_placed() {
        assert_eq!(parse("{\"a\": }"), None);
        assert_eq!(parse("[1, 2"), None);
        assert_eq!(parse("{} {}"), None);
        assert_eq!(parse(&"[".repeat(MAX_DEPTH + 2)), None);
    }

    #[test]
    fn proofs_are_placed_at_their_name() {
        let text = "{\"accounts\": [\"x\"],\n \"proofs\": [\n  {\"name\": \"one\"},\n  {\n    \"expect\": \"reachable\",\n    \"name\": \"two\"}]}";
        assert_eq!(proof_line(text, "proofs[0]"), Some(3));
        assert_eq!(proof_line(text, "proofs[1]"), Some(6));
        assert_eq!(proof_line(text, "proofs[2]"), None);
        assert_eq!(proof_line(text, "accounts[0]"), None);
    }

    #[test]
    fn declarations_are_placed_in_plans_states_and_json_templates() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("writable");
            path.display().to_string()
        };
        let origin = |file: &str, address: &str, template: bool| crate::model::Origin {
            file: file.to_string(),
            address: address.to_string(),
            template,
            line: None,
        };
        let plan = write(
            "plan.json",
            "{\"resource_changes\": [\n {\"address\": \"a.b\"},\n {\n  \"address\": \"module.m.c.d\"\n }\n]}",
        );
        let state = write(
            "state.json",
            "{\"values\": {\"root_module\": {\"resources\": [],\n \"child_modules\": [{\"resources\": [\n  {\"address\": \"module.m.c.d\"}]}]}}}",
        );
        let template = write(
            "t.json",
            "{\"Resources\": {\n \"Role\": {\n  \"Type\": \"AWS::IAM::Role\"}}}",
        );
        let mut files = Snapshots::default();
        let line = |files: &mut Snapshots, o: crate::model::Origin| {
            files.declaration(&o).map(|p| (p.line, p.end_line))
        };
        assert_eq!(
            line(&mut files, origin(&plan, "module.m.c.d", false)),
            Some((3, 5))
        );
        assert_eq!(
            line(&mut files, origin(&state, "module.m.c.d", false)),
            Some((3, 3))
        );
        assert_eq!(
            line(&mut files, origin(&template, "Role", true)),
            Some((2, 3))
        );
        // Not there: not placed, never guessed.
        assert_eq!(line(&mut files, origin(&plan, "x.y", false)), None);
        assert_eq!(line(&mut files, origin(&template, "Other", true)), None);
        // A line kept by the reader (YAML) is used as it is.
        let kept = crate::model::Origin {
            line: Some(7),
            ..origin("t.yaml", "Role", true)
        };
        assert_eq!(line(&mut files, kept), Some((7, 7)));
    }

    #[test]
    fn statements_by_position() {
        let text = "{\"Statement\": [\n {\"Sid\": \"3\"},\n {},\n {\"Sid\": \"\"}\n]}";
        let document = parse(text).expect("valid JSON");
        let line = |index: usize| statement_node(&document, index).line;
        assert_eq!(line(0), 2);
        assert_eq!(line(1), 3);
        assert_eq!(line(2), 4);
        // No such statement: the document.
        assert_eq!(line(3), 1);
        assert_eq!(statement_node(&document, 3).end_line, 5);
        let single = parse("{\"Statement\": {\"Effect\": \"Allow\"}}").expect("valid JSON");
        assert_eq!(statement_node(&single, 0).line, 1);
        let text_policy = parse("{\"Policy\": \"{}\"}").expect("valid JSON");
        let policy = text_policy.get("Policy").expect("Policy");
        assert_eq!(statement_node(policy, 0).line, 1);
    }
}
