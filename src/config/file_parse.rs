//! The config file read so that one run finds every mistake of its shape: an unknown key, a
//! value of the wrong type, a missing required key. Serde stops at the first, so each is
//! recorded with its place and the entry holding it taken out of the document, and the rest
//! is read again, until it reads cleanly. Only a TOML syntax error ends the reading at once
//! (what follows it cannot be trusted).

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::file::FileConfig;

/// One mistake of the file's shape: what serde said, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ShapeMistake {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl ShapeMistake {
    fn of(error: &toml::de::Error) -> Self {
        ShapeMistake {
            span: error.span(),
            message: error.message().trim().to_string(),
        }
    }
}

/// The file as far as it reads (`None` when a mistake could not be set aside), and every
/// mistake of its shape in the order found.
pub(super) fn parse_file_config(text: &str) -> (Option<FileConfig>, Vec<ShapeMistake>) {
    let mut document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(e) => return (None, vec![ShapeMistake::of(&e)]),
    };
    let mut mistakes = Vec::new();
    // Each round takes one entry out of the document, so this ends.
    loop {
        match FileConfig::deserialize(toml::de::Deserializer::from(document.clone())) {
            Ok(config) => return (Some(config), mistakes),
            Err(e) => {
                let mistake = ShapeMistake::of(&e);
                let set_aside = mistake
                    .span
                    .as_ref()
                    .is_some_and(|at| remove_entry_at(document.get_mut(), at));
                mistakes.push(mistake);
                if !set_aside {
                    return (None, mistakes);
                }
            }
        }
    }
}

fn contains(span: &Range<usize>, at: &Range<usize>) -> bool {
    span.start <= at.start && at.end <= span.end
}

/// Takes out the innermost entry whose key or value holds `at`; whether there was one.
fn remove_entry_at(table: &mut DeTable<'_>, at: &Range<usize>) -> bool {
    for (_, value) in table.iter_mut() {
        let removed = match value.get_mut() {
            DeValue::Table(inner) => remove_entry_at(inner, at),
            DeValue::Array(items) => remove_item_at(items, at),
            _ => false,
        };
        if removed {
            return true;
        }
    }
    let holder = table
        .iter()
        .find(|(key, value)| contains(&key.span(), at) || contains(&value.span(), at))
        .map(|(key, _)| key.get_ref().to_string());
    holder.is_some_and(|key| table.remove(key.as_str()).is_some())
}

/// [`remove_entry_at`] inside the tables of an array, else the item holding `at` (a table
/// missing a required key, say).
fn remove_item_at(items: &mut DeArray<'_>, at: &Range<usize>) -> bool {
    for item in items.iter_mut() {
        if let DeValue::Table(inner) = item.get_mut()
            && remove_entry_at(inner, at)
        {
            return true;
        }
    }
    let Some(index) = items.iter().position(|item| contains(&item.span(), at)) else {
        return false;
    };
    let mut kept = DeArray::new();
    for (i, item) in items.iter().enumerate() {
        if i != index {
            kept.push(Spanned::clone(item));
        }
    }
    *items = kept;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &str) -> Vec<(usize, String)> {
        let (_, mistakes) = parse_file_config(text);
        mistakes
            .into_iter()
            .map(|m| {
                let start = m.span.expect("a place").start;
                (text[..start].matches('\n').count() + 1, m.message)
            })
            .collect()
    }

    #[test]
    fn every_unknown_key_is_found_with_its_line() {
        let text = "[tickets]\nprefx = \"SUP\"\n\n[[mailboxes]]\nname = \"s\"\nusernme = \"x\"\n\n[notify]\ntechnician = []\n";
        let found = lines_of(text);
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines.len(), 3, "{found:?}");
        for line in [2, 6, 9] {
            assert!(lines.contains(&line), "line {line}: {found:?}");
        }
        assert!(
            found
                .iter()
                .any(|(_, m)| m.contains("unknown field `usernme`")),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_and_missing_keys_are_found_too() {
        let text = "[[mailboxes]]\nname = \"a\"\nport = \"x\"\n\n[[mailboxes]]\nhost = \"h\"\n\n[limits]\nmax_mime_depth = \"deep\"\nbogus = 1\n";
        let found = lines_of(text);
        assert_eq!(found.len(), 4, "{found:?}");
        let (config, _) = parse_file_config(text);
        assert!(config.is_none() || config.is_some_and(|c| c.mailboxes.len() == 1));
    }

    #[test]
    fn a_syntax_error_is_the_only_mistake_reported() {
        let (config, mistakes) = parse_file_config("[tickets\nprefix = 1\n");
        assert!(config.is_none());
        assert_eq!(mistakes.len(), 1, "{mistakes:?}");
    }

    #[test]
    fn a_clean_file_reads_as_before() {
        let (config, mistakes) = parse_file_config("[tickets]\nprefix = \"ACME\"\n");
        assert!(mistakes.is_empty(), "{mistakes:?}");
        let prefix = config.unwrap().tickets.prefix.unwrap();
        assert_eq!(prefix.get_ref(), "ACME");
    }
}
