//! Proof results as JUnit XML, the test report that CI systems (GitHub Actions test reporters,
//! GitLab, Jenkins) show as a table of passed and failed tests.
//!
//! One `<testsuite>` per proof file, one `<testcase>` per proof. A failing proof is a
//! `<failure>` whose body is the counterexample worded as in the text report; an `unknown` one is
//! an `<error>`, since the check could not be made, which JUnit readers keep apart from a failed
//! assertion. There are no timestamps, durations or host names, so the same proofs give the same
//! bytes and a report can be pinned in a test. The writer is a few lines over an attribute
//! escaping function and CDATA sections rather than an XML library: the document has four
//! element kinds and is never read back here.

use super::{proof_details, Finding};
use crate::query::prove::{ProofResult, Status};
use std::path::{Component, Path};

/// The JUnit report of proof results, grouped by proof file in the order the files came.
pub fn render(results: &[ProofResult]) -> String {
    let mut files: Vec<&str> = Vec::new();
    for result in results {
        if !files.contains(&result.file.as_str()) {
            files.push(&result.file);
        }
    }
    let count =
        |of: &[&ProofResult], status: Status| of.iter().filter(|r| r.status == status).count();
    let all: Vec<&ProofResult> = results.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"iamproof prove\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        all.len(),
        count(&all, Status::Fails),
        count(&all, Status::Unknown)
    ));
    for file in files {
        let suite: Vec<&ProofResult> = results.iter().filter(|r| r.file == file).collect();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">\n",
            attribute(file),
            suite.len(),
            count(&suite, Status::Fails),
            count(&suite, Status::Unknown)
        ));
        let classname = attribute(&classname(file));
        for result in suite {
            let opening = format!(
                "    <testcase name=\"{}\" classname=\"{classname}\"",
                attribute(&result.name)
            );
            let element = match result.status {
                Status::Holds => {
                    out.push_str(&opening);
                    out.push_str("/>\n");
                    continue;
                }
                Status::Fails => "failure",
                Status::Unknown => "error",
            };
            let kind = Finding::of(result).map_or("", Finding::id);
            let message = result.reason.as_deref().unwrap_or(kind);
            out.push_str(&format!(
                "{opening}>\n      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>\n    </testcase>\n",
                attribute(message),
                cdata(&proof_details(result))
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// A Java-style class name from a proof file path: `proofs/default.json` is `proofs.default`.
/// Only the named folders count, so `./` and `../` do not make names that differ by where the
/// command ran from look different.
fn classname(file: &str) -> String {
    let path = Path::new(file);
    let stem = path.with_extension("");
    let parts: Vec<String> = stem
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join(".")
}

/// Multi-line text as a CDATA section, which keeps it verbatim: readers hand it back without
/// trimming or decoding, and some JUnit readers drop character references from element text.
fn cdata(value: &str) -> String {
    let text: String = value.chars().map(xml_char).collect();
    // `]]>` would close the section: split it across two.
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// Escapes an attribute value; line breaks and tabs become character references because XML
/// readers turn literal ones into spaces in attributes.
fn attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(xml_char(c)),
        }
    }
    out
}

/// Control characters cannot appear in XML 1.0 at all, not even as references.
fn xml_char(c: char) -> char {
    if is_xml_char(c) {
        c
    } else {
        '\u{fffd}'
    }
}

/// The characters XML 1.0 allows (`Char` of the specification).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_in_attributes() {
        assert_eq!(
            attribute("say \"hi\" & <bye>"),
            "say &quot;hi&quot; &amp; &lt;bye&gt;"
        );
        assert_eq!(attribute("a\nb\tc\r"), "a&#10;b&#9;c&#13;");
    }

    #[test]
    fn text_is_kept_verbatim_in_cdata() {
        assert_eq!(cdata("a < b && c\n"), "<![CDATA[a < b && c\n]]>");
        assert_eq!(cdata("x]]>y"), "<![CDATA[x]]]]><![CDATA[>y]]>");
        assert_eq!(cdata("é 日本 😀"), "<![CDATA[é 日本 😀]]>");
    }

    #[test]
    fn control_characters_do_not_break_the_document() {
        assert_eq!(
            cdata("bell\u{7}nul\u{0}"),
            "<![CDATA[bell\u{fffd}nul\u{fffd}]]>"
        );
        assert_eq!(attribute("\u{fffe}\u{1b}"), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn class_names_follow_the_file_path() {
        assert_eq!(classname("proofs/default.json"), "proofs.default");
        assert_eq!(classname("./proofs/a.b.json"), "proofs.a.b");
        assert_eq!(classname("../x/y.json"), "x.y");
        assert_eq!(classname("plain"), "plain");
    }
}
